"""oslo.messaging plumbing shared by the agent and the monitor.

sod-nova's messages go to their own exchange (``sod_nova``), so that the
agents and the monitor can share a transport (and a broker) with Nova without
their topics meeting Nova's. The transport URL is oslo.messaging's
``[DEFAULT] transport_url``; sod-nova makes its default ``fake://``, the
in-process transport, so that a single process (the embedded cloud, the tests)
needs no broker. Production deployments set a ``rabbit://`` URL.
"""

import oslo_messaging
from oslo_messaging import opts as messaging_opts

EXCHANGE = 'sod_nova'
DEFAULT_TRANSPORT_URL = 'fake://'


def register_transport_opts(conf):
    """Register oslo.messaging's [DEFAULT] transport options, ``fake://`` default.

    oslo.messaging registers them itself only inside ``get_transport``; doing
    it first lets a configuration file's ``transport_url`` be read and gives
    it sod-nova's default.
    """
    for group, opts in messaging_opts.list_opts():
        if group in (None, 'DEFAULT'):
            conf.register_opts(opts)
    conf.set_default('transport_url', DEFAULT_TRANSPORT_URL)


def get_transport(conf):
    register_transport_opts(conf)
    return oslo_messaging.get_rpc_transport(conf)


def get_notification_transport(conf):
    register_transport_opts(conf)
    return oslo_messaging.get_notification_transport(conf)


def target(topic, server=None, version=None):
    return oslo_messaging.Target(exchange=EXCHANGE, topic=topic,
                                 server=server, version=version)


def get_client(transport, topic, version):
    return oslo_messaging.get_rpc_client(transport, target(topic, version=version))


def get_server(transport, topic, server, endpoints):
    return oslo_messaging.get_rpc_server(
        transport, target(topic, server=server), endpoints)
