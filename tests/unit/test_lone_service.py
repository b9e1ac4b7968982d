"""No configuration lets a service run on the in-memory transport; the
simulator's ``lone_service`` runs one alone there, for tests of the process."""

import secrets
import signal
import subprocess
import sys

import pytest


def _config(tmp_path, text=''):
    nonce_key = tmp_path / 'nonce.key'
    nonce_key.write_text(secrets.token_hex(32))
    nonce_key.chmod(0o600)
    path = tmp_path / 'sod.conf'
    path.write_text('[sod_database]\nconnection = sqlite:///%s/sod.db\n'
                    '[sod_trust]\nnonce_key_file = %s\n%s' % (tmp_path, nonce_key, text))
    synced = subprocess.run([sys.executable, '-m', 'sod_nova.cmd.manage', '--config-file',
                             str(path), 'db', 'sync'], capture_output=True, text=True,
                            timeout=120)
    assert synced.returncode == 0, synced.stderr
    return path


def _until_started_or_exit(args):
    """``(started, status, output)``: whether the monitor said it started
    (then stopped with SIGTERM), else how it exited."""
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    lines = []
    try:
        for line in proc.stdout:         # oslo.log writes to stderr
            lines.append(line)
            if 'trust monitor' in line and 'started' in line:
                proc.send_signal(signal.SIGTERM)
                return True, proc.wait(timeout=120), ''.join(lines)
        return False, proc.wait(timeout=120), ''.join(lines)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_no_option_lets_a_service_start_on_the_in_memory_transport(tmp_path):
    # [DEFAULT] embedded = true did, until it became the simulator's business.
    config = _config(tmp_path, '[DEFAULT]\nembedded = true\n')
    started, status, output = _until_started_or_exit(
        [sys.executable, '-m', 'sod_nova.cmd.trust_monitor', '--config-file', str(config)])
    assert not started, output
    assert status == 1
    assert output.strip().splitlines()[-1].startswith(
        'sod-trust-monitor: [DEFAULT] transport_url is fake://, in-memory'), output


def test_the_simulator_runs_a_service_alone_on_the_in_memory_transport(tmp_path):
    config = _config(tmp_path)
    started, status, output = _until_started_or_exit(
        [sys.executable, '-m', 'sod_nova.cloud.lone_service', 'sod-trust-monitor',
         '--config-file', str(config)])
    assert started, output
    assert status == 0, output


@pytest.mark.parametrize('argv', [[], ['sod-nova-api']])
def test_lone_service_runs_only_the_service_scripts(argv):
    result = subprocess.run([sys.executable, '-m', 'sod_nova.cloud.lone_service'] + argv,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert result.stderr.splitlines()[-1] == (     # after library warnings
        'usage: python -m sod_nova.cloud.lone_service '
        '{sod-trust-agent,sod-trust-monitor,sod-migration-manager} [ARG ...]')
