"""What libvirt says a host can enforce, and the monitor's checks of it.

The domain-capabilities documents under data/domcaps are written in
libvirt's documented format for an SEV-SNP host, a TDX host and a plain one
(libvirt's test:/// driver has no getDomainCapabilities); the round trip
against a real libvirtd is in tests/functional/test_libvirt_platform.py.
"""

import pathlib
import uuid

import pytest

from sod_nova import trust
from sod_nova.trust import backends
from sod_nova.trust import evidence as evidence_mod
from sod_nova.trust import keys
from sod_nova.trust import nonces
from sod_nova.trust import platform
from sod_nova.trust import references
from sod_nova.trust import verify

DATA = pathlib.Path(__file__).parent / 'data' / 'domcaps'


def caps(name):
    return platform.parse_domain_capabilities((DATA / name).read_text())


def test_sev_snp_host():
    assert caps('sev-snp-host.xml') == {
        'features': ['sev', 'sev-es', 'sev-snp', 'tpm'],
        'tpm_models': ['tpm-crb', 'tpm-tis']}


def test_tdx_host():
    assert caps('tdx-host.xml') == {'features': ['sgx', 'tdx', 'tpm'],
                                    'tpm_models': ['tpm-crb']}


def test_plain_host():
    assert caps('plain-host.xml') == {'features': ['tpm'],
                                      'tpm_models': ['tpm-crb', 'tpm-tis']}


@pytest.mark.parametrize('text, reason', [
    ('<domainCapabilities', 'domain capabilities are not XML'),
    ('<capabilities/>', 'not a domainCapabilities document (root <capabilities>)'),
])
def test_bad_capabilities_say_why(text, reason):
    with pytest.raises(platform.PlatformError) as exc:
        platform.parse_domain_capabilities(text)
    assert str(exc.value).startswith(reason)


@pytest.mark.parametrize('architecture, document, problem', [
    ('AMD-SEV-SNP', 'sev-snp-host.xml', None),
    ('AMD-SEV-SNP', 'tdx-host.xml', 'host claims AMD-SEV-SNP but libvirt reports no SEV-SNP'),
    ('AMD-SEV-SNP', 'plain-host.xml', 'host claims AMD-SEV-SNP but libvirt reports no SEV-SNP'),
    ('Intel-TDX', 'tdx-host.xml', None),
    ('Intel-TDX', 'sev-snp-host.xml', 'host claims Intel-TDX but libvirt reports no TDX'),
    ('Intel-SGX', 'plain-host.xml', 'host claims Intel-SGX but libvirt reports no SGX'),
    ('HyperWall', 'plain-host.xml', None),
])
def test_claimed_architecture_against_libvirt(architecture, document, problem):
    field = dict(caps(document), domains=[])
    assert platform.architecture_problem(architecture, field) == problem


def _verdict(architecture, field):
    """A simulated host's report carrying ``field`` through the verifier."""
    key = keys.generate_private_key()
    backend = backends.load('simulated', architecture)
    record = verify.Enrollment('h1', architecture, key.public_key())
    group_key = b'k' * 32
    nonce = nonces.issue(group_key, 'h1', 0.0)
    log, pcrs = backend.measurements()
    ev = evidence_mod.Evidence('h1', architecture, 'b', 1, nonce, 0.0,
                               tuple(log), pcrs, {}, platform=field)
    return verify.Verifier(references.References(), 65536, 30.0, group_key).verify(
        evidence_mod.sign(ev, key), lambda h: record, 1.0)


def test_sev_snp_claim_without_sev_snp_is_untrusted_with_the_reason():
    verdict = _verdict('AMD-SEV-SNP', dict(caps('plain-host.xml'), domains=[]))
    assert (verdict.state, verdict.reason) == (
        trust.UNTRUSTED, 'host claims AMD-SEV-SNP but libvirt reports no SEV-SNP')
    assert _verdict('AMD-SEV-SNP', dict(caps('sev-snp-host.xml'),
                                        domains=[])).trusted


def test_malformed_platform_report_is_untrusted():
    verdict = _verdict('TPM', {'features': ['quantum'], 'tpm_models': [],
                               'domains': []})
    assert verdict.reason == 'malformed platform report: features'


@pytest.mark.parametrize('untrusted', [False, True])
def test_domain_nova_does_not_know(untrusted):
    known, stray = str(uuid.uuid4()), str(uuid.uuid4())
    asked = []

    def nova_domains(host):
        asked.append(host)
        return [known]

    check = platform.DomainCheck(nova_domains, untrusted=untrusted)
    field = dict(caps('sev-snp-host.xml'), domains=[known])
    verdict = check.apply(_verdict('AMD-SEV-SNP', field))
    assert verdict.trusted
    assert check.apply(_verdict('AMD-SEV-SNP', field)).trusted
    assert asked == ['h1']          # Nova asked once for a known set
    verdict = check.apply(_verdict('AMD-SEV-SNP', dict(field, domains=[known, stray])))
    reason = 'libvirt runs 1 domain Nova does not know: %s' % stray
    if untrusted:
        assert (verdict.state, verdict.reason) == (trust.UNTRUSTED, reason)
    else:
        assert verdict.trusted
