"""[nova] options: how the migration manager reaches Nova's API.

The standard keystoneauth auth and session options, loaded with
``keystoneauth1.loading``, plus the endpoint selection openstacksdk needs.
"""

from keystoneauth1 import loading as ks_loading
from oslo_config import cfg

nova_group = cfg.OptGroup(
    'nova',
    title='Nova API client',
    help='Credentials and endpoint with which sod-migration-manager lists '
         'servers and asks Nova to migrate, pause and resume them. The user '
         'needs the admin role (live migration and all_projects listing).')

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
    # A new OptGroup for every ConfigOpts: oslo.config copies a registered
    # group shallowly, so one shared object would carry the auth plugin's
    # options (auth_url, required) that keystoneauth registers when it loads
    # the plugin into every configuration registered after it.
    group = cfg.OptGroup(nova_group.name, title=nova_group.title, help=nova_group.help)
    conf.register_group(group)
    conf.register_opts(nova_opts, group=group)
    ks_loading.register_session_conf_options(conf, group.name)
    ks_loading.register_auth_conf_options(conf, group.name)


def list_opts():
    return {nova_group: (
        nova_opts
        + ks_loading.get_session_conf_options()
        + ks_loading.get_auth_common_conf_options()
        + ks_loading.get_auth_plugin_conf_options('password'))}
