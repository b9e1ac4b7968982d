"""``GET /catalog``, ``GET /catalog/{name}``: Table III and the packages."""

from sod_nova.api import errors
from sod_nova.api import util
from sod_nova.api.objects import catalog as catalog_obj
from sod_nova.api.policies import catalog as policies


@util.handler
def list_catalog(req):
    util.context(req).can(policies.LIST)
    catalog = util.app(req).catalog
    return util.json_response({
        'architectures': [catalog_obj.architecture_view(catalog, a)
                          for a in catalog.architectures],
        'packages': catalog_obj.package_views(catalog),
        'removed_counts_as_protected': catalog.removed_counts_as_protected,
    })


@util.handler
def get_architecture(req):
    util.context(req).can(policies.SHOW)
    catalog = util.app(req).catalog
    name = util.path_item(req, 'name')
    arch = catalog.get(name)
    if arch is None:
        raise util.ApiError(404, '%s is not in the catalogue (known: %s).' % (
            name, ', '.join(catalog.names())), errors.ARCHITECTURE_NOT_FOUND)
    return util.json_response({
        'architecture': catalog_obj.architecture_view(catalog, arch)})
