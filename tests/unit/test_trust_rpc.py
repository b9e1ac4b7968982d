"""sod-nova's oslo.messaging options: the library's own, in any order."""

from oslo_config import cfg
import oslo_messaging
import pytest

from sod_nova.trust import rpc


def _control_exchange_default():
    conf = cfg.ConfigOpts()
    oslo_messaging.TransportURL.parse(conf)  # registers the library's own
    return conf.control_exchange


@pytest.fixture
def library_defaults():
    """Restore oslo.messaging's process-wide control_exchange default."""
    before = _control_exchange_default()
    yield
    oslo_messaging.set_transport_defaults(before)


@pytest.mark.parametrize('first', ['sod-nova', 'oslo.messaging'])
def test_options_meet_the_library_after_a_service_changes_its_defaults(
        library_defaults, first):
    # Nova's config does set_transport_defaults('nova'): it changes the
    # library's option objects for the whole process, whoever registers next.
    conf = cfg.ConfigOpts()
    if first == 'sod-nova':
        rpc.register_transport_opts(conf)
    oslo_messaging.set_transport_defaults('a-service')
    oslo_messaging.TransportURL.parse(conf)
    oslo_messaging.get_notification_transport(conf, url='fake://')
    rpc.register_transport_opts(conf)

    assert conf.control_exchange == 'a-service'
    assert conf.transport_url == rpc.DEFAULT_TRANSPORT_URL


def test_options_are_registered_for_a_configuration_file_to_set():
    conf = cfg.ConfigOpts()
    rpc.register_transport_opts(conf)
    conf([], default_config_files=[])
    conf.set_override('transport_url', 'rabbit://u:p@ctl:5672/',
                      group=rpc.NOTIFICATIONS_GROUP)

    assert conf.transport_url == 'fake://'
    assert rpc.transport_problem(conf, rpc=False) is None
    assert 'in-memory' in rpc.transport_problem(conf, notifications=False)
