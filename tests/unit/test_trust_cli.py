"""``sod-nova trust …`` and the ``sod-trust-*`` scripts as an operator runs them."""

import subprocess
import sys

import pytest

from sod_nova.trust import keys


def run(*args, config=None, module='sod_nova.cmd.manage', stdin=None):
    argv = [sys.executable, '-m', module]
    if config:
        argv += ['--config-file', str(config)]
    return subprocess.run(argv + list(args), capture_output=True, text=True,
                          timeout=120, input=stdin)


@pytest.fixture(scope='module')
def config(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp('trust-cli')
    path = tmp_path / 'sod.conf'
    path.write_text('[sod_database]\nconnection = sqlite:///%s\n'
                    % (tmp_path / 'sod.db'))
    result = run('db', 'sync', config=path)
    assert result.returncode == 0, result.stderr
    return path


def test_enroll_token_list_revoke(config, tmp_path):
    public = keys.public_key_text(keys.generate_private_key())
    key_file = tmp_path / 'hw1.pub'
    key_file.write_text(public + '\n')
    result = run('trust', 'enroll', 'hw1', '--architecture', 'hyperwall',
                 '--public-key', str(key_file), '-f', 'value', config=config)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ['hw1', 'HyperWall', public, 'False', 'None']

    result = run('trust', 'token', 'create', 'tpm1', '--architecture', 'TPM',
                 '--ttl', '60', config=config)
    assert result.returncode == 0, result.stderr
    token = result.stdout.strip()
    assert len(token) >= 40

    result = run('trust', 'list', '-f', 'value', '-c', 'Host', '-c',
                 'Token Pending', config=config)
    assert result.stdout.split('\n')[:2] == ['hw1 False', 'tpm1 True']

    result = run('trust', 'revoke', 'hw1', config=config)
    assert (result.returncode, result.stdout) == (0, 'hw1: enrollment revoked\n')
    hosts = run('host', 'list', '-f', 'value', '-c', 'Host', '-c', 'State',
                '-c', 'Reason', config=config).stdout
    assert 'hw1 untrusted enrollment revoked' in hosts
    assert 'tpm1 unreachable no verified evidence yet' in hosts


@pytest.mark.parametrize('args, message', [
    (['trust', 'enroll', 'hw1', '--architecture', 'Nope', '--public-key', '-'],
     "sod-nova: 'Nope' is not in the catalogue"),
    (['trust', 'enroll', 'hw1', '--architecture', 'TPM', '--public-key', '-'],
     'sod-nova: -: public key is neither PEM nor base64'),
    (['trust', 'enroll', 'hw1', '--architecture', 'TPM', '--public-key', '/no/such'],
     'sod-nova: cannot read the public key'),
    (['trust', 'token', 'create', 'hw1', '--architecture', 'TPM', '--ttl', '0'],
     'sod-nova: --ttl must be at least 1 second'),
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
def test_bad_input_is_one_line_and_exit_2(config, args, message):
    result = run(*args, config=config, stdin='garbage\n')
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(message), result.stderr


def test_one_public_key_belongs_to_one_host(config, tmp_path):
    key_file = tmp_path / 'shared.pub'
    key_file.write_text(keys.public_key_text(keys.generate_private_key()))
    first = run('trust', 'enroll', 'dup1', '--architecture', 'TPM',
                '--public-key', str(key_file), config=config)
    assert first.returncode == 0, first.stderr
    second = run('trust', 'enroll', 'dup2', '--architecture', 'TPM',
                 '--public-key', str(key_file), config=config)
    assert second.returncode == 2
    assert second.stderr.strip() == (
        'sod-nova: this public key is already enrolled for host dup1; one key '
        'belongs to one host')
    listed = run('trust', 'list', '-f', 'value', '-c', 'Host', config=config)
    assert 'dup2' not in listed.stdout.split()


def test_host_list_shows_rejected_reports(config):
    from sod_nova.conf import CONF
    from sod_nova.db import api
    from sod_nova.db import evidence_rejections
    url = config.read_text().split('connection = ')[1].strip()
    CONF.set_override('connection', url, 'sod_database')
    try:
        api.host_declare('rej1', 'TPM')
        evidence_rejections.add({('rej1', 'signature'): (3, 'bad signature'),
                                 ('rej1', 'replay'): (1, 'replayed'),
                                 ('(unknown)', 'unknown_host'): (2, 'who')})
    finally:
        api.dispose()
        CONF.clear_override('connection', 'sod_database')
    result = run('host', 'list', '-f', 'csv', '-c', 'Host', '-c', 'State',
                 '-c', 'Rejected Reports', config=config)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert '"rej1","unreachable","replay: 1, signature: 3"' in lines
    assert '"(unknown)","","unknown_host: 2"' in lines


def test_agent_refuses_a_bad_host_name_in_one_line(tmp_path):
    config = tmp_path / 'agent.conf'
    config.write_text('[trust]\nhost = compute/1\nprivate_key_file = %s\n'
                      % (tmp_path / 'host.key'))
    result = run('--config-file', str(config), module='sod_nova.cmd.trust_agent')
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        "sod-trust-agent: [trust] host 'compute/1' has the character '/'; "
        "allowed: ASCII letters, digits and _ . : -")
    assert not (tmp_path / 'host.key').exists()    # refused before any work


def test_agent_without_a_key_file_says_what_to_set():
    result = run(module='sod_nova.cmd.trust_agent')
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        'sod-trust-agent: set [trust] private_key_file')


def test_agent_with_an_unknown_backend_names_it(tmp_path):
    config = tmp_path / 'agent.conf'
    config.write_text('[trust]\nprivate_key_file = %s\nbackend = quantum\n'
                      % (tmp_path / 'host.key'))
    result = run('--config-file', str(config), module='sod_nova.cmd.trust_agent')
    assert result.returncode == 1
    assert 'quantum' in result.stderr.strip().splitlines()[-1]
