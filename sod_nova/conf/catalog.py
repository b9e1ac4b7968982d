"""[sod_catalog] options: where the Table III rows and the packages come from."""

from oslo_config import cfg

from sod_nova.catalog import Catalog
from sod_nova.conf import deprecation

catalog_group = cfg.OptGroup(
    'sod_catalog',
    title='Security capability catalogue',
    help='The Server Security Capabilities table (paper Table III) and the '
         'named security packages customers can choose.')

catalog_opts = deprecation.from_group('catalog', [
    cfg.StrOpt(
        'architectures_file',
        help="""
YAML file with the server architecture rows (paper Table III).

Possible values:

* Empty (default): the catalogue shipped with sod-nova (the paper's 13 rows
  plus present-day architectures).
* A path to a copy of that file with the operator's own rows.

Related options:

* ``packages_file``
"""),
    cfg.StrOpt(
        'packages_file',
        help="""
YAML file with the named security packages (``sod:package``).

Possible values:

* Empty (default): the shipped packages (basic, hypervisor-protected,
  hardware-protected, medical-records).
* A path to a file with the operator's own packages.
"""),
    cfg.BoolOpt(
        'removed_counts_as_protected',
        default=False,
        help="""
Whether a ``removed`` cell (the entity is removed at run time, NoHype's
hypervisor) satisfies a request against that entity.

Fail closed by default: only ``yes`` satisfies a request.
"""),
])


def register_opts(conf):
    conf.register_group(catalog_group)
    conf.register_opts(catalog_opts, group=catalog_group)


def list_opts():
    return {catalog_group: catalog_opts}


def load_catalog(conf):
    """The :class:`Catalog` that ``conf``'s [sod_catalog] options describe."""
    return Catalog.load(conf.sod_catalog.architectures_file or None,
                        conf.sod_catalog.packages_file or None,
                        conf.sod_catalog.removed_counts_as_protected)
