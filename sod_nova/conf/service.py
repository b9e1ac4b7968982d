"""[DEFAULT] options every sod-nova service reads at start."""

from oslo_config import cfg

service_opts = [
    cfg.BoolOpt(
        'embedded',
        default=False,
        help="""
Whether this service runs embedded: in one process with every service it talks
to (the embedded cloud, a test), where the in-memory ``fake://`` transport
reaches them.

Off (the default), ``sod-trust-agent``, ``sod-trust-monitor`` and
``sod-migration-manager`` refuse to start when ``[DEFAULT] transport_url`` (or
``[oslo_messaging_notifications] transport_url``) is ``fake://`` or left out:
their messages would reach no other process, a silent cloud.

Related options:

* ``[DEFAULT] transport_url``, e.g. ``rabbit://USER:PASS@CONTROLLER:5672/``
"""),
]


def register_opts(conf):
    conf.register_opts(service_opts)


def list_opts():
    return {'DEFAULT': service_opts}
