"""[sod_placement] options: publishing verified capabilities as traits.

The group is not ``[placement]``: Nova owns that name in the configuration
the embedded cloud shares with it.
"""

from oslo_config import cfg

from sod_nova.conf import keystone_client

placement_group = cfg.OptGroup(
    'sod_placement',
    title='Placement traits of trusted hosts',
    help='With publish_traits, the trust monitor sets sod-nova\'s own '
         'traits on the compute resource provider of every trusted host '
         'with fresh evidence, and removes them when trust is lost: a '
         'CUSTOM_SOD_<ENTITY>_<C|I> trait for each cell the host\'s row '
         'protects for any guest, so that a flavor pre-filtering with '
         'trait:CUSTOM_SOD_HYPERVISOR_C=required never lands an ordinary '
         'guest on a protection only a confidential guest gets (an SNP host '
         'has no CUSTOM_SOD_HYPERVISOR_C); and CUSTOM_SOD_ATTESTED_<ARCH> '
         'where the row protects more for a guest launched for it (SEV-SNP, '
         'TDX, the vTPM row...), e.g. a flavor asking for an SNP guest adds '
         'trait:CUSTOM_SOD_ATTESTED_AMD_SEV_SNP=required. Nova\'s drivers '
         'own the standard traits (HW_CPU_X86_AMD_SEV_SNP...): sod-nova '
         'never writes them, and takes off only those its last release '
         'wrote on the root provider, once. The scheduler filter stays the '
         'authority (traits can lag).')

placement_opts = [
    cfg.BoolOpt(
        'publish_traits',
        default=False,
        help="""
Publish the verified capabilities of trusted hosts as Placement traits
(sod-nova's own ``CUSTOM_SOD_*`` traits only; see the group's help).

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
