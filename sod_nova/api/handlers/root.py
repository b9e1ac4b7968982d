"""``GET /``: the version document (no authentication, as Placement)."""

from sod_nova.api import microversion
from sod_nova.api import util


@util.handler
def home(req):
    return util.json_response({'versions': [{
        'id': 'v%s' % microversion.min_version(),
        'min_version': microversion.min_version(),
        'max_version': microversion.max_version(),
        'status': 'CURRENT',
        'links': [{'rel': 'self', 'href': ''}],
    }]})
