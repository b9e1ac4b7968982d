"""oslo.messaging plumbing shared by the agent and the monitor.

Messages go to sod-nova's own exchange (``sod_nova``), so the agents and the
monitor can share Nova's transport without meeting its topics. The default
``fake://`` serves a single process; the service scripts refuse it
(:func:`transport_problem`). See doc/source/contributor/trust-plane.rst.
"""

import oslo_messaging
from oslo_messaging import opts as messaging_opts

EXCHANGE = 'sod_nova'
DEFAULT_TRANSPORT_URL = 'fake://'
NOTIFICATIONS_GROUP = 'oslo_messaging_notifications'
#: Drivers whose messages never leave the process: oslo.messaging's fake and
#: the embedded cloud's bus (sod_nova.cloud._bus, entry point sod-memory).
IN_MEMORY_DRIVERS = ('fake', 'sod-memory')


def register_messaging_opts(conf):
    """Register oslo.messaging's [DEFAULT] and notification options.

    oslo.messaging registers them itself only inside ``get_transport`` and its
    servers; registering first lets a configuration file set them. These are
    the library's own option objects (as its ``ConfFixture`` registers them),
    never the deep copies ``list_opts()`` returns: once anyone changes an
    original's default (Nova's config sets ``control_exchange`` to ``nova``
    with ``set_transport_defaults``), a copy clashes with it
    (``DuplicateOptError``) whenever the library registers its own.
    """
    for group, opts in messaging_opts._opts:  # what list_opts() deep-copies
        if group is None:
            conf.register_opts(opts)
        elif group == NOTIFICATIONS_GROUP:
            conf.register_opts(opts, group=group)


def register_transport_opts(conf):
    """Register oslo.messaging's options (above), ``fake://`` the default URL."""
    register_messaging_opts(conf)
    conf.set_default('transport_url', DEFAULT_TRANSPORT_URL)


def transport_problem(conf, rpc=True, notifications=True):
    """Why ``conf``'s transports cannot reach another process; None if they can.

    ``fake://`` (sod-nova's default, so also a missing ``transport_url``) is
    an in-memory transport: messages never leave the process, so a service
    must not start on it. ``notifications``
    checks the notification transport (its own URL, or ``transport_url``),
    ``rpc`` the RPC one. The reason is one line that says what to set.
    """
    register_transport_opts(conf)
    urls = []
    if rpc:
        urls.append(('[DEFAULT] transport_url', conf.transport_url))
    if notifications:
        own = conf[NOTIFICATIONS_GROUP].transport_url
        urls.append(('[%s] transport_url' % NOTIFICATIONS_GROUP, own) if own
                    else ('[DEFAULT] transport_url', conf.transport_url))
    for option, url in urls:
        try:
            driver = oslo_messaging.TransportURL.parse(conf, url).transport
        except oslo_messaging.InvalidTransportURL as exc:
            return '%s is not a transport URL (%s)' % (option, exc)
        if driver in IN_MEMORY_DRIVERS:
            return ('%s is %s, in-memory: no other process hears it; set it to '
                    'the cloud\'s RabbitMQ, e.g. rabbit://USER:PASS@CONTROLLER:'
                    '5672/' % (option, url))
    return None


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
