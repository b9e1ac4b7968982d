"""``sod-nova trust …`` and the ``sod-trust-*`` scripts as an operator runs them."""

import base64
import subprocess
import sys

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
import pytest

from sod_nova.trust import keys
from sod_nova.trust import tpm2


@pytest.fixture(scope='module')
def config(tmp_path_factory, sod_cli):
    tmp_path = tmp_path_factory.mktemp('trust-cli')
    path = tmp_path / 'sod.conf'
    path.write_text('[sod_database]\nconnection = sqlite:///%s\n'
                    % (tmp_path / 'sod.db'))
    result = sod_cli('db', 'sync', config=path)
    assert result.returncode == 0, result.stderr
    return path


def test_enroll_token_list_revoke(config, tmp_path, sod_cli):
    public = keys.public_key_text(keys.generate_private_key())
    key_file = tmp_path / 'hw1.pub'
    key_file.write_text(public + '\n')
    result = sod_cli('trust', 'enroll', 'hw1', '--architecture', 'hyperwall',
                     '--public-key', str(key_file), '-f', 'value', config=config)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ['hw1', 'HyperWall', public, 'False', 'None',
                                     'None', 'False']

    result = sod_cli('trust', 'token', 'create', 'tpm1', '--architecture', 'TPM',
                     '--ttl', '60', config=config)
    assert result.returncode == 0, result.stderr
    token = result.stdout.strip()
    assert len(token) >= 40

    result = sod_cli('trust', 'list', '-f', 'value', '-c', 'Host', '-c',
                     'Token Pending', config=config)
    # The module's database is shared by tests that run in any order.
    assert [line for line in result.stdout.split('\n')
            if line.split(' ')[0] in ('hw1', 'tpm1')] == ['hw1 False',
                                                          'tpm1 True']

    result = sod_cli('trust', 'revoke', 'hw1', config=config)
    assert (result.returncode, result.stdout) == (0, 'hw1: enrollment revoked\n')
    hosts = sod_cli('host', 'list', '-f', 'value', '-c', 'Host', '-c', 'State',
                    '-c', 'Reason', config=config).stdout
    assert 'hw1 untrusted enrollment revoked' in hosts
    assert 'tpm1 unreachable no verified evidence yet' in hosts


@pytest.mark.parametrize('args, message', [
    (['trust', 'enroll', 'hw1', '--architecture', 'Nope', '--public-key', '-'],
     "sod-nova: 'Nope' is not in the catalogue"),
    (['trust', 'enroll', 'hw1', '--architecture', 'TPM', '--public-key', '-'],
     'sod-nova: -: public key is neither PEM nor base64'),
    (['trust', 'enroll', 'hw1', '--architecture', 'TPM', '--public-key', '/no/such'],
     'sod-nova: /no/such: cannot read the public key: No such file'),
    (['trust', 'enroll', 'hw1', '--architecture', 'TPM', '--public-key',
      '/dev/zero'],
     'sod-nova: /dev/zero: larger than 65536 bytes (the public key must be'),
    (['trust', 'enroll', 'hw1', '--architecture', 'TPM', '--public-key',
      '/dev/zero', '--tpm-ek', '/dev/zero'],
     'sod-nova: /dev/zero: larger than 65536 bytes (the public key must be'),
    (['trust', 'token', 'create', 'hw1', '--architecture', 'TPM', '--tpm-ek',
      '/dev/zero'],
     'sod-nova: /dev/zero: larger than 65536 bytes (the endorsement key must'),
    (['trust', 'token', 'create', 'hw1', '--architecture', 'TPM', '--ttl', '0'],
     'sod-nova: --ttl must be 1 to 604800 seconds'),
    (['trust', 'token', 'create', 'hw1', '--architecture', 'TPM', '--ttl',
      '99999999999999999999'], 'sod-nova: --ttl must be 1 to 604800 seconds'),
    (['trust', 'token', 'create', 'hw1', '--architecture', 'TPM', '--ttl',
      '604801'], 'sod-nova: --ttl must be 1 to 604800 seconds'),
    (['trust', 'revoke', 'ghost'], 'sod-nova: ghost is not enrolled'),
    (['trust', 'enroll', 'a/b', '--architecture', 'TPM', '--public-key', '-'],
     "sod-nova: host name 'a/b' has the character '/'"),
    (['trust', 'token', 'create', 'h\u00e9', '--architecture', 'TPM'],
     "sod-nova: host name 'h\\xe9' has the character '\\xe9'"),
    (['trust', 'token', 'create', 'x' * 100000, '--architecture', 'TPM'],
     'sod-nova: host name is 100000 characters long (at most 255)'),
    (['host', 'declare', 'a\nb', 'TPM'],
     "sod-nova: host name 'a\\nb' has the character '\\n'"),
    (['host', 'declare', '', 'TPM'], 'sod-nova: host name is empty'),
])
def test_bad_input_is_one_line_and_exit_2(config, args, message, sod_cli):
    result = sod_cli(*args, config=config, stdin='garbage\n')
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(message), result.stderr


def test_one_public_key_belongs_to_one_host(config, tmp_path, sod_cli):
    key_file = tmp_path / 'shared.pub'
    key_file.write_text(keys.public_key_text(keys.generate_private_key()))
    first = sod_cli('trust', 'enroll', 'dup1', '--architecture', 'TPM',
                    '--public-key', str(key_file), config=config)
    assert first.returncode == 0, first.stderr
    second = sod_cli('trust', 'enroll', 'dup2', '--architecture', 'TPM',
                     '--public-key', str(key_file), config=config)
    assert second.returncode == 2
    assert second.stderr.strip() == (
        'sod-nova: this public key is already enrolled for host dup1; one key '
        'belongs to one host')
    # The same key spelled otherwise (PEM, blanks around it) is the same key.
    pem = keys.load_public_key(key_file.read_text()).public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    for spelling in (pem.decode(), '  %s\n\n' % key_file.read_text()):
        key_file.write_text(spelling)
        again = sod_cli('trust', 'enroll', 'dup3', '--architecture', 'TPM',
                        '--public-key', str(key_file), config=config)
        assert again.returncode == 2
        assert 'already enrolled for host dup1' in again.stderr
    listed = sod_cli('trust', 'list', '-f', 'value', '-c', 'Host', config=config)
    assert 'dup2' not in listed.stdout.split()


def test_host_list_shows_rejected_reports(config, sod_cli):
    from sod_nova.conf import CONF
    from sod_nova.db import api
    from sod_nova.db import evidence_rejections
    url = config.read_text().split('connection = ')[1].strip()
    CONF.set_override('connection', url, 'sod_database')
    try:
        api.configure(CONF)
        context = api.Context()
        api.host_declare(context, 'rej1', 'TPM')
        evidence_rejections.add(context, {
            ('rej1', 'signature'): (3, 'bad signature'),
            ('rej1', 'replay'): (1, 'replayed'),
            ('(unknown)', 'unknown_host'): (2, 'who')})
    finally:
        api.dispose()
        CONF.clear_override('connection', 'sod_database')
    result = sod_cli('host', 'list', '-f', 'csv', '-c', 'Host', '-c', 'State',
                     '-c', 'Rejected Reports', config=config)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert '"rej1","unreachable","replay: 1, signature: 3"' in lines
    assert '"(unknown)","","unknown_host: 2"' in lines


def test_agent_refuses_a_bad_host_name_in_one_line(tmp_path, sod_cli):
    config = tmp_path / 'agent.conf'
    config.write_text('[trust]\nhost = compute/1\nprivate_key_file = %s\n'
                      % (tmp_path / 'host.key'))
    result = sod_cli('--config-file', str(config), module='sod_nova.cmd.trust_agent')
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        "sod-trust-agent: [sod_trust] host 'compute/1' has the character '/'; "
        "allowed: ASCII letters, digits and _ . : -")
    assert not (tmp_path / 'host.key').exists()    # refused before any work


def test_agent_without_a_key_file_says_what_to_set(sod_cli):
    result = sod_cli(module='sod_nova.cmd.trust_agent')
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        'sod-trust-agent: set [sod_trust] private_key_file')


def test_agent_with_an_unknown_backend_names_it(tmp_path, sod_cli):
    config = tmp_path / 'agent.conf'
    config.write_text('[trust]\nprivate_key_file = %s\nbackend = quantum\n'
                      % (tmp_path / 'host.key'))
    result = sod_cli('--config-file', str(config), module='sod_nova.cmd.trust_agent')
    assert result.returncode == 1
    assert 'quantum' in result.stderr.strip().splitlines()[-1]


def _ek_files(tmp_path):
    """An RSA 2048 EK as its PEM public key and as the base64 TPMT_PUBLIC
    the TCG template L-1 gives it."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = tmp_path / 'ek.pem'
    pem.write_bytes(key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    raw = tpm2.ek_public_from_rsa(key.public_key())
    b64 = tmp_path / 'ek.b64'
    b64.write_text(base64.b64encode(raw).decode() + '\n')
    return pem, b64, raw


def test_enroll_with_a_tpm_ek_from_pem_or_tpmt_public(config, tmp_path, sod_cli):
    pem, b64, raw = _ek_files(tmp_path)
    key_file = tmp_path / 'tpm2.pub'
    key_file.write_text(keys.public_key_text(keys.generate_private_key()))
    fingerprints = []
    for ek_file in (pem, b64):
        result = sod_cli('trust', 'enroll', 'tpm2', '--architecture', 'TPM',
                         '--public-key', str(key_file), '--tpm-ek', str(ek_file),
                         '-f', 'value', '-c', 'TPM EK', '-c', 'TPM AK Activated',
                         config=config)
        assert result.returncode == 0, result.stderr
        fingerprints.append(result.stdout.split())
    name = tpm2.parse_public(raw).name
    assert fingerprints == [[name[2:].hex()[:16], 'False']] * 2


def test_token_for_a_tpm_host_carries_its_ek(config, tmp_path, sod_cli):
    """A TPM host enrolled by token: the operator gives the EK with the
    token (the agent's own enrollment brings only its signing key)."""
    pem, _, raw = _ek_files(tmp_path)
    result = sod_cli('trust', 'token', 'create', 'tpm4', '--architecture', 'TPM',
                     '--tpm-ek', str(pem), config=config)
    assert result.returncode == 0, result.stderr
    result = sod_cli('trust', 'list', '-f', 'value', '-c', 'Host', '-c', 'TPM EK',
                     '-c', 'Token Pending', config=config)
    assert 'tpm4 True %s' % tpm2.parse_public(raw).name[2:].hex()[:16] in (
        result.stdout.splitlines())
    bad = tmp_path / 'bad.ek'
    bad.write_text('AAAA')
    result = sod_cli('trust', 'token', 'create', 'tpm5', '--architecture', 'TPM',
                     '--tpm-ek', str(bad), config=config)
    assert result.returncode == 2 and result.stdout == ''
    assert len(result.stderr.strip().splitlines()) == 1
    assert 'truncated TPMT_PUBLIC' in result.stderr


@pytest.mark.parametrize('content, message', [
    ('AAAA', 'truncated TPMT_PUBLIC'),
    ('not base64!', 'endorsement key is not base64'),
    (b'\x30\x82\x01\x0a\x02\x82', 'bad.ek: byte 1 is not text (the '
     'endorsement key must be base64 or PEM text)'),
    ('A' * 70000, 'bad.ek: larger than 65536 bytes'),
])
def test_enroll_with_a_bad_tpm_ek_is_one_line_and_exit_2(config, tmp_path,
                                                          content, message, sod_cli):
    ek = tmp_path / 'bad.ek'
    if isinstance(content, bytes):
        ek.write_bytes(content)
    else:
        ek.write_text(content)
    key_file = tmp_path / 'k.pub'
    key_file.write_text(keys.public_key_text(keys.generate_private_key()))
    result = sod_cli('trust', 'enroll', 'tpm3', '--architecture', 'TPM',
                     '--public-key', str(key_file), '--tpm-ek', str(ek),
                     config=config)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], result.stderr


def test_agent_with_the_tpm_backend_but_no_tpm2_pytss_says_what_to_install(tmp_path):
    config = tmp_path / 'agent.conf'
    config.write_text('[trust]\nprivate_key_file = %s\nbackend = tpm\n'
                      % (tmp_path / 'host.key'))
    # A deployment without tpm2-pytss: its import fails.
    code = ('import sys; sys.modules["tpm2_pytss"] = None; '
            'from sod_nova.cmd import trust_agent; '
            'sys.exit(trust_agent.main(["--config-file", %r]))' % str(config))
    result = subprocess.run([sys.executable, '-c', code], capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith('sod-trust-agent: the tpm backend needs tpm2-pytss')
    assert 'pip install "sod-nova[tpm]"' in last


def test_agent_with_an_unreachable_tpm_names_the_tcti(tmp_path, sod_cli):
    config = tmp_path / 'agent.conf'
    tcti = 'swtpm:path=%s' % (tmp_path / 'no-such-socket')
    config.write_text('[trust]\nprivate_key_file = %s\nbackend = tpm\n'
                      'tpm_tcti = %s\n' % (tmp_path / 'host.key', tcti))
    result = sod_cli('--config-file', str(config), module='sod_nova.cmd.trust_agent')
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1].startswith(
        'sod-trust-agent: cannot open the TPM at %s' % tcti)


@pytest.mark.parametrize('module, option', [
    ('sod_nova.cmd.trust_monitor', 'evidence_max_age = nan'),
    ('sod_nova.cmd.trust_monitor', 'report_interval = inf'),
    ('sod_nova.cmd.trust_agent', 'report_interval = nan'),
    ('sod_nova.cmd.migration_manager', 'evidence_max_age = 1e400'),
])
def test_a_service_with_a_bad_float_stops_at_start_with_one_line(tmp_path, module,
                                                                  option, sod_cli):
    """Checked with every option at start, not when first read (the monitor
    read evidence_max_age only on its first verdict, and ran until then)."""
    config = tmp_path / 'sod.conf'
    config.write_text('[DEFAULT]\ntransport_url = rabbit://nobody@127.0.0.1:1/\n'
                      '[sod_trust]\n%s\n' % option)
    result = sod_cli(config=config, module=module)
    prog = module.rsplit('.', 1)[1].replace('_', '-')
    prog = {'migration-manager': 'sod-migration-manager'}.get(prog, 'sod-' + prog)
    assert result.returncode == 1, result.stderr
    line = result.stderr.strip().splitlines()[-1]    # after library warnings
    assert line.startswith(prog + ': ') and option.split(' = ')[0] in line, line
    assert 'Traceback' not in result.stderr
