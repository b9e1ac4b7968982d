"""[sod_placement] options: publishing verified capabilities as traits.

The group is not ``[placement]``: Nova owns that name in the configuration
the embedded cloud shares with it.
"""

from oslo_config import cfg

from sod_nova.conf import keystone_client

placement_group = cfg.OptGroup(
    'sod_placement',
    title='Placement traits of trusted hosts',
    help='With publish_traits, the trust monitor sets CUSTOM_SOD_<ENTITY>_'
         '<C|I> traits (and matching standard traits) on the compute '
         'resource provider of every trusted host with fresh evidence, and '
         'removes them when trust is lost, so that flavors can pre-filter '
         'with trait:CUSTOM_SOD_HYPERVISOR_C=required. The scheduler filter '
         'stays the authority (traits can lag).')

placement_opts = [
    cfg.BoolOpt(
        'publish_traits',
        default=False,
        help="""
Publish the verified capabilities of trusted hosts as Placement traits.

Related options:

* The keystoneauth options of this group (a user with Placement's admin
  role).
"""),
    cfg.StrOpt(
        'region_name',
        help='Region of the placement endpoint in the service catalog.'),
    cfg.StrOpt(
        'interface',
        default='internal',
        choices=['public', 'internal', 'admin'],
        help='Which placement endpoint of the service catalog to use.'),
    cfg.StrOpt(
        'endpoint_override',
        help='Placement API URL to use instead of the service catalog\'s.'),
]


def register_opts(conf):
    keystone_client.register_opts(conf, placement_group, placement_opts)


def list_opts():
    return keystone_client.list_opts(placement_group, placement_opts)
