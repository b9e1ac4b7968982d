"""REST endpoints under ``/api/sod/`` for the Launch Instance "Security" step.

They follow Horizon's own ``openstack_dashboard.api.rest`` views: registered
with ``urls.register``, JSON in and out through ``rest_utils.ajax``, and
authenticated like every other Horizon API call. The answers come from
sod-nova-api with the user's token (:mod:`sod_horizon.api.choice`); when the
API cannot answer, the step gets its error (and fails closed).
"""

from django.views import generic
from openstack_dashboard.api.rest import urls
from openstack_dashboard.api.rest import utils as rest_utils

from sod_horizon.api import choice
from sod_horizon.api import sod


def _list_of(data, name, kind):
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, list) or not all(
            isinstance(v, kind) and not isinstance(v, bool) for v in value):
        raise rest_utils.AjaxError(
            400, "'%s' must be a list of %s" % (
                name, 'numbers' if kind is int else 'strings'))
    return value


@urls.register
class Choices(generic.View):
    """The security packages and the seven options a customer can pick."""

    url_regex = r'sod/choices/$'

    @rest_utils.ajax()
    def get(self, request):
        try:
            packages = choice.packages(request)
        except sod.SodApiError as exc:
            raise rest_utils.AjaxError(exc.status, str(exc)) from None
        return {'packages': packages, 'options': choice.options()}


@urls.register
class Check(generic.View):
    """Validate a choice and say which server types in this cloud satisfy it.

    The body is ``{"package": name, "options": [numbers], "properties":
    ["C", "I"], "flavor_id": id}`` (``flavor_id``: the chosen flavor, whose
    guest the answer is for). A well-formed body always gets 200: ``valid``
    false with the offending ``field`` and ``error`` for a choice sod-nova
    refuses (the
    step shows it as you click), and, when valid, the ``metadata`` to give
    the new server. A body of the wrong shape gets 400.
    """

    url_regex = r'sod/check/$'

    @rest_utils.ajax(data_required=True)
    def post(self, request):
        data = request.DATA
        if not isinstance(data, dict):
            raise rest_utils.AjaxError(400, 'the body must be a JSON object')
        unknown = sorted(set(data) - {'package', 'options', 'properties',
                                      'flavor_id'})
        if unknown:
            raise rest_utils.AjaxError(400, 'unknown field(s): %s' % (
                ', '.join(unknown)))
        package = data.get('package') or None
        if package is not None and not isinstance(package, str):
            raise rest_utils.AjaxError(400, "'package' must be a string")
        flavor_id = data.get('flavor_id') or None
        if flavor_id is not None and not isinstance(flavor_id, str):
            raise rest_utils.AjaxError(400, "'flavor_id' must be a string")
        options = _list_of(data, 'options', int)
        properties = _list_of(data, 'properties', str)
        try:
            return choice.check(request, package, options, properties,
                                flavor_id)
        except sod.SodApiError as exc:
            raise rest_utils.AjaxError(exc.status, str(exc)) from None
