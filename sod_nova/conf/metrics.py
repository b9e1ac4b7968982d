"""[sod_metrics] options: where each service exposes Prometheus metrics.

Off by default; on, bound to loopback unless the operator says otherwise
(the metrics name hosts and counts, nothing secret, but no one outside
needs them unfiltered).
"""

from oslo_config import cfg

metrics_group = cfg.OptGroup(
    'sod_metrics',
    title='Prometheus metrics',
    help='The HTTP endpoints (Prometheus text format) of sod-trust-monitor, '
         'sod-migration-manager and sod-nova-api. See the admin guide\'s '
         'metrics page for what each metric means.')


def _port(name, service):
    return cfg.PortOpt(
        name,
        default=0,
        help="""
TCP port of %s's metrics endpoint (``/metrics`` and ``/``), on
``bind_host``. 0 (the default) serves no metrics. Each process needs a port
of its own: give every %s on one host a different one.

Possible values:

* 0 (no endpoint), or a free TCP port.
""" % (service, service))


metrics_opts = [
    cfg.HostAddressOpt(
        'bind_host',
        default='127.0.0.1',
        help="""
Address the metrics endpoints listen on. The default, loopback, leaves
them to a scraper on the same host (or a local agent that forwards them).

Possible values:

* An IP address or host name of this host.
"""),
    _port('monitor_port', 'sod-trust-monitor'),
    _port('manager_port', 'sod-migration-manager'),
    _port('api_port', 'sod-nova-api'),
]


def register_opts(conf):
    conf.register_group(metrics_group)
    conf.register_opts(metrics_opts, group=metrics_group)


def list_opts():
    return {metrics_group: metrics_opts}
