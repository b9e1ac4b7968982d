"""sod-nova's console scripts as separate processes, for the functional tests.

:class:`Processes` starts the scripts of this virtualenv as an operator runs
them (each with its own configuration files), keeps their output in files
under the test's directory (shown when a wait fails), and ends every process
it started: SIGTERM first, SIGKILL when a process ignores it. ``kill9`` is the
fault: no clean-up runs in the victim.
"""

import os
import signal
import subprocess
import sys

import sqlalchemy as sa

from sod_nova.cloud import fleet
from sod_nova.trust import nonces

#: Seconds after which a wait for a process's work is a hang (a bound, not a
#: speed assertion: every wait polls the work's own result).
HANG = 120


def script(name):
    return os.path.join(os.path.dirname(sys.executable), name)


class Processes:
    def __init__(self, directory):
        self.directory = directory
        self.procs = []

    def start(self, name, *config_files):
        """Start console script ``name`` with ``--config-file`` each of them."""
        log = open(self.directory / ('%s-%d.log' % (name, len(self.procs))), 'wb')
        cmd = [script(name)]
        for path in config_files:
            cmd += ['--config-file', str(path)]
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        proc.log_path = log.name
        self.procs.append(proc)
        return proc

    def kill9(self, proc):
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=HANG)

    def terminate(self, proc):
        """SIGTERM (a clean stop); its exit status."""
        proc.send_signal(signal.SIGTERM)
        return proc.wait(timeout=HANG)

    def logs(self):
        out = []
        for proc in self.procs:
            with open(proc.log_path, errors='replace') as f:
                out.append('--- %s (pid %d, status %s)\n%s' % (
                    proc.args[0], proc.pid, proc.poll(), f.read()[-3000:]))
        return '\n'.join(out)

    def wait(self, predicate, what):
        """Wait until ``predicate()`` is true; fail with the logs if never."""
        assert fleet.wait_for(predicate, HANG, interval=0.1), (
            '%s never happened\n%s' % (what, self.logs()))

    def close(self):
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=HANG)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def manage(config_file, *args):
    """``sod-nova --config-file CONFIG ARGS...``; its stdout."""
    return subprocess.run(
        [script('sod-nova'), '--config-file', str(config_file), *args],
        check=True, capture_output=True, text=True).stdout


def group_keys(tmp_path):
    """A monitor group's nonce key file, written as the operator does:
    ``[sod_trust] nonce_key_file`` of the monitors."""
    path = tmp_path / 'nonce.key'
    nonces.write_key(str(path))
    return path


def challenge_key_file(config_file, tmp_path):
    """The group's challenge public key as the operator copies it to every
    compute host (``sod-nova trust challenge-key``): the agents'
    ``[sod_trust] challenge_public_key_file``."""
    path = tmp_path / 'challenge.pub'
    path.write_text(manage(config_file, 'trust', 'challenge-key'))
    return path


class HostRows:
    """Reads ``sod_hosts`` directly (the test's own connection, not sod-nova's)."""

    def __init__(self, url):
        self.engine = sa.create_engine(url, poolclass=sa.pool.NullPool)

    def get(self, host):
        try:
            with self.engine.connect() as conn:
                row = conn.execute(sa.text(
                    'SELECT state, reason, last_evidence_at FROM sod_hosts '
                    'WHERE host = :host'), {'host': host}).first()
        except sa.exc.OperationalError:    # the server is restarting
            return None, None, None
        return tuple(row) if row is not None else (None, None, None)

    def state(self, host):
        return self.get(host)[0]
