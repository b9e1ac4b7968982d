"""The real keystonemiddleware in the embedded Nova API (``keystone_auth``).

A browser test of Horizon holds real Keystone tokens, so the embedded API
must check them as production does; :class:`~sod_nova.cloud.nova.EmbeddedNova`
takes the ``[keystone_authtoken]`` settings for that from here.
"""

from nova import conf as nova_conf

CONF = nova_conf.CONF


def authtoken_settings(conf, keystone_auth):
    """Settings for the real keystonemiddleware in the API's paste pipeline.

    Nova 34's paste pipeline always has ``authtoken`` (OSAPIFixture stubs it
    out unless told not to). keystonemiddleware registers its options on
    import, but those of its auth plugin (``auth_url``, ``username``...) only
    when it first loads it, too late for the overrides: register them now,
    through the ``conf`` fixture, so that cleanUp unregisters them (else the
    plugin's required ``auth_url`` stays registered, and the next cloud's
    configuration parse fails before its overrides are set).
    """
    from keystoneauth1 import loading as ks_loading
    from keystonemiddleware.auth_token import _opts  # noqa: F401 (registers)

    auth_type = keystone_auth.get('auth_type', 'password')
    group = 'keystone_authtoken'
    registered = set(CONF[group])
    conf.register_opts(
        [opt for opt in ks_loading.get_auth_plugin_conf_options(auth_type)
         if opt.dest not in registered], group=group)
    settings = {(group, 'auth_type'): auth_type}
    settings.update({(group, name): value for name, value in keystone_auth.items()})
    return settings
