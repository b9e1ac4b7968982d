"""[nova] options: how the migration manager (and ``sod-nova-status upgrade
check``'s flavor check) reaches Nova's API.

The standard keystoneauth auth and session options, loaded with
``keystoneauth1.loading``, plus the endpoint selection openstacksdk needs.
"""

from oslo_config import cfg

from sod_nova.conf import keystone_client

nova_group = cfg.OptGroup(
    'nova',
    title='Nova API client',
    help='Credentials and endpoint with which sod-migration-manager lists '
         'servers and asks Nova to migrate, pause and resume them, and with '
         'which ``sod-nova-status upgrade check`` reads every flavor, public '
         'and private, with its extra specs, to name those that do not '
         'launch the guest their sod: request needs. The user needs the '
         'admin role (live migration, all_projects listing, private '
         'flavors).')

nova_opts = [
    cfg.StrOpt(
        'region_name',
        help='Region of the compute endpoint in the service catalog.'),
    cfg.StrOpt(
        'interface',
        default='internal',
        choices=['public', 'internal', 'admin'],
        help='Which compute endpoint of the service catalog to use.'),
    cfg.StrOpt(
        'endpoint_override',
        help="""
Compute API URL to use instead of the service catalog's, e.g.
``http://controller:8774/v2.1``.
"""),
]


def register_opts(conf):
    keystone_client.register_opts(conf, nova_group, nova_opts)


def list_opts():
    return keystone_client.list_opts(nova_group, nova_opts)
