"""Evidence backends: loaded through their entry points, honest when clean."""

import pytest
from stevedore import exception as stevedore_exc

from sod_nova.catalog import Catalog
from sod_nova.trust import backends
from sod_nova.trust import measurements
from sod_nova.trust.backends import base
from sod_nova.trust.backends import hyperwall


@pytest.mark.parametrize('name, architecture, counter', [
    ('hyperwall', 'HyperWall', 'memory_violations'),
    ('datasafe', 'DataSafe', 'blocked_leaks'),
    ('simulated-tpm', 'TPM', None),
])
def test_shipped_backends_load_and_boot_the_golden_log(name, architecture, counter):
    backend = backends.load(name)
    assert isinstance(backend, base.TrustBackend)
    assert backend.architecture_type == architecture
    log, pcrs = backend.measurements()
    assert measurements.replay(log) == pcrs == measurements.reference_pcrs(architecture)
    assert backend.runtime_evidence() == ({counter: 0} if counter else {})


def test_every_backend_architecture_is_a_catalogue_row():
    catalog = Catalog.load()
    for name in ('hyperwall', 'datasafe', 'simulated-tpm'):
        assert catalog.get(backends.load(name).architecture_type) is not None


def test_simulated_backend_stands_for_any_architecture():
    backend = backends.load('simulated', 'AMD-SEV-SNP')
    assert backend.architecture_type == 'AMD-SEV-SNP'
    assert backend.measurements()[1] == measurements.reference_pcrs('AMD-SEV-SNP')
    assert backend.measurements()[1] != measurements.reference_pcrs('TPM')


def test_simulated_backend_without_architecture_is_refused():
    with pytest.raises(ValueError, match='needs an architecture'):
        backends.load('simulated')


def test_unknown_backend_name_is_an_error():
    with pytest.raises(stevedore_exc.NoMatches):
        backends.load('no-such-backend')


def test_attack_and_recovery_notify_listeners():
    backend = hyperwall.HyperWallBackend()
    calls = []
    backend.add_listener(lambda: calls.append(backend.runtime_evidence()))
    backend.start_attack(3)
    backend.stop_attack()
    assert calls == [{'memory_violations': 3}, {'memory_violations': 0}]
    with pytest.raises(ValueError):
        backend.start_attack(0)


def test_tpm_attack_extends_the_pcrs_consistently_and_reboot_restores():
    tpm = backends.load('simulated-tpm')
    tpm.start_attack(1)
    log, pcrs = tpm.measurements()
    assert log[-1].pcr == 10 and log[-1].name == 'rootkit-0.ko'
    assert measurements.replay(log) == pcrs
    tpm.stop_attack()
    assert tpm.measurements()[1] == measurements.reference_pcrs('TPM')


def test_tpm_tampered_log_no_longer_replays():
    tpm = backends.load('simulated-tpm')
    tpm.tamper_log()
    log, pcrs = tpm.measurements()
    assert measurements.replay(log) != pcrs


def test_extend_is_sha256_of_old_value_and_digest():
    import hashlib
    digest = hashlib.sha256(b'kernel').hexdigest()
    assert measurements.extend(measurements.ZERO_PCR, digest) == hashlib.sha256(
        b'\x00' * 32 + bytes.fromhex(digest)).digest()


def test_the_production_interfaces_inject_no_attack():
    # Attacks are the simulation's: the backend interface, the real TPM
    # backend and the production agent have no hook to fake one.
    from sod_nova.cloud import agents
    from sod_nova.trust.agent import service
    from sod_nova.trust.backends import tpm
    hooks = ('start_attack', 'stop_attack', 'tamper_log')
    for cls in (base.TrustBackend, tpm.TpmBackend):
        assert not [h for h in hooks if hasattr(cls, h)], cls
    agent_hooks = ('silence', 'resume', 'forge', 'replay', 'send', 'sent')
    assert not [h for h in agent_hooks if hasattr(service.TrustAgent, h)]
    assert all(hasattr(agents.SimulatedAgent, h) for h in agent_hooks[:-1])
