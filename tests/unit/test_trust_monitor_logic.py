"""The monitor's pure decisions: scope, nonces; the transport default."""

from oslo_config import cfg
from oslo_config import fixture as config_fixture
import pytest

from sod_nova.conf import trust as trust_conf
from sod_nova.trust import rpc
from sod_nova.trust import verify
from sod_nova.trust.monitor import service


@pytest.fixture
def conf():
    conf = cfg.ConfigOpts()
    trust_conf.register_opts(conf)
    conf([])
    return conf


def test_scope_by_host_and_architecture(conf):
    everything = service.TrustMonitor(conf, name='all')
    assert everything.serves('any', 'TPM')
    family = service.TrustMonitor(conf, name='hw', architectures=['HyperWall'])
    assert family.serves('hw1', 'hyperwall') and not family.serves('tpm1', 'TPM')
    listed = service.TrustMonitor(conf, name='two', hosts=['a', 'b'],
                                  architectures=['TPM'])
    assert listed.serves('a', 'TPM')
    assert not listed.serves('c', 'TPM') and not listed.serves('a', 'DataSafe')


def test_scope_from_options(conf):
    fixture = config_fixture.Config(conf)
    fixture.setUp()
    fixture.config(group='trust', monitor_hosts=['a'], monitor_name='tm-a',
                   monitor_topic='t-a')
    monitor = service.TrustMonitor(conf)
    assert (monitor.name, monitor.topic) == ('tm-a', 't-a')
    assert monitor.serves('a', 'TPM') and not monitor.serves('b', 'TPM')
    fixture.cleanUp()


def test_nonces_carry_the_run_epoch_and_expire_or_overflow(conf):
    monitor = service.TrustMonitor(conf, name='m')
    monitor.epoch = 'e' * 16
    record = verify.Enrollment('h', 'TPM', None)
    first = monitor._add_nonce(record, 0.0)
    assert len(first) == 64 and first.startswith('e' * 16)
    later = monitor._add_nonce(record, conf.trust.nonce_max_age + 1)
    assert set(record.nonces) == {later}          # the expired one is gone
    for i in range(service.MAX_NONCES + 5):
        monitor._add_nonce(record, 100.0 + i)
    assert len(record.nonces) == service.MAX_NONCES
    assert max(record.nonces.values()) == 100.0 + service.MAX_NONCES + 4


def test_construction_does_no_io(conf):
    monitor = service.TrustMonitor(conf, name='m')
    assert monitor._server is None and monitor._transport is None


def test_transport_url_defaults_to_the_in_process_transport():
    conf = cfg.ConfigOpts()
    rpc.register_transport_opts(conf)
    conf([])
    assert conf.transport_url == 'fake://'
