"""``GET /audit``: the audit trail page by page, each page verified."""

from sod_nova.api import util
from sod_nova.api.objects import audit as audit_obj
from sod_nova.api.policies import audit as policies
from sod_nova.api.schemas import audit as schema

DEFAULT_LIMIT = 100


@util.handler
def list_audit(req):
    util.context(req).can(policies.LIST)
    conf = util.app(req).conf
    params = util.query(req, schema.LIST)
    marker = int(params.get('marker', 0))
    limit = min(int(params.get('limit', DEFAULT_LIMIT)),
                conf.sod_api.max_limit)
    page = audit_obj.Page(util.context(req), marker, limit, params.get('expect_head'))
    rows, head = page.rows, page.head_seq
    body = {
        'entries': [audit_obj.entry_view(r) for r in rows],
        'verification': page.verification(audit_obj.key(conf)),
        'head_seq': head,
        'links': [],
    }
    if rows and head is not None and rows[-1].seq < head:
        href = '%s?marker=%d&limit=%d' % (req.path, rows[-1].seq, limit)
        if 'expect_head' in params:
            href += '&expect_head=' + params['expect_head']
        body['links'].append({'rel': 'next', 'href': href})
    return util.json_response(body)
