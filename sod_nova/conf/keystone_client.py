"""What every sod-nova client of an OpenStack API registers: keystoneauth's
session and auth options, beside the group's own (``[nova]``, ``[sod_placement]``).

A new OptGroup for every ConfigOpts: oslo.config copies a registered group
shallowly, so one shared object would carry the auth plugin's options
(``auth_url``, required) that keystoneauth registers when it loads the plugin
into every configuration registered after it.
"""

from keystoneauth1 import loading as ks_loading
from oslo_config import cfg


def register_opts(conf, group, opts):
    """Register ``group`` (a template OptGroup) with ``opts`` and keystoneauth's."""
    fresh = cfg.OptGroup(group.name, title=group.title, help=group.help)
    conf.register_group(fresh)
    conf.register_opts(opts, group=fresh)
    ks_loading.register_session_conf_options(conf, fresh.name)
    ks_loading.register_auth_conf_options(conf, fresh.name)


def list_opts(group, opts):
    """``{group: options}`` for the sample generator (password auth shown)."""
    return {group: (
        opts
        + ks_loading.get_session_conf_options()
        + ks_loading.get_auth_common_conf_options()
        + ks_loading.get_auth_plugin_conf_options('password'))}
