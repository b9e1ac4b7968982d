"""[sod_upgrade_check] options of ``sod-nova-status upgrade check``."""

from oslo_config import cfg

from sod_nova.conf import deprecation

upgrade_check_group = cfg.OptGroup(
    'sod_upgrade_check',
    title='sod-nova-status upgrade check',
    help='Where ``sod-nova-status upgrade check`` finds the configuration of '
         'the Nova services sod-nova depends on. Its flavor check reads '
         'Nova\'s flavors through Nova\'s API instead, with ``[nova]``\'s '
         'credentials.')

upgrade_check_opts = deprecation.from_group('upgrade_check', [
    cfg.ListOpt(
        'nova_config_files',
        default=['/etc/nova/nova.conf'],
        help="""
The configuration files nova-scheduler (and nova-api, nova-conductor) are
started with, in their ``--config-file`` order (a later file wins, as in
oslo.config).

The checks read from them: ``[filter_scheduler]`` (the
SecurityOnDemandFilter available and enabled), ``[notifications]`` and
``[oslo_messaging_notifications]`` (the versioned ``instance.update``
notifications the migration manager listens for).

The flavor check does not read these files: it lists every flavor, public
and private, through Nova's API with ``[nova]``'s credentials (run the check
with the migration manager's configuration file), and warns of each flavor
whose ``sod:`` request only rows that protect a guest launched for them
(SEV-SNP, TDX...) satisfy, among this cloud's declared server types (the
whole catalogue before any host is declared), but that does not launch such
a guest; and of each flavor whose ``sod:`` request is malformed. Without
``[nova]`` credentials, or with Nova unreachable, it is a warning saying so.
"""),
])


def register_opts(conf):
    conf.register_group(upgrade_check_group)
    conf.register_opts(upgrade_check_opts, group=upgrade_check_group)


def list_opts():
    return {upgrade_check_group: upgrade_check_opts}
