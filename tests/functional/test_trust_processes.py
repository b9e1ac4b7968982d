"""``sod-trust-monitor`` and ``sod-trust-agent`` as separate processes over RabbitMQ.

The console scripts as an operator runs them: a real broker (Debian's
``rabbitmq-server``, started for this module on free ports), the monitor and
an agent as processes, enrollment with a one-time token from ``sod-nova trust
token create``, a SQLite database read back with ``sqlite3``. Skipped where
no ``rabbitmq-server`` is installed (``apt-get install rabbitmq-server``).
"""

import os
import pathlib
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile

import pytest

from sod_nova.trust import fleet

pytestmark = pytest.mark.skipif(
    shutil.which('rabbitmq-server') is None or os.geteuid() != 0,
    reason='needs rabbitmq-server (Debian package) and root to start it')

TIMEOUT = 60


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


@pytest.fixture(scope='module')
def rabbit_url():
    # Not under pytest's tmp_path: its parents are private to root, and the
    # broker runs as the rabbitmq user.
    base = pathlib.Path(tempfile.mkdtemp(prefix='sod-rabbit-'))
    shutil.chown(base, 'rabbitmq', 'rabbitmq')
    port = free_port()
    node = 'sodtrust%d@localhost' % os.getpid()
    env = dict(os.environ, RABBITMQ_NODENAME=node, RABBITMQ_NODE_PORT=str(port),
               RABBITMQ_DIST_PORT=str(free_port()),
               RABBITMQ_MNESIA_BASE=str(base / 'mnesia'),
               RABBITMQ_LOG_BASE=str(base / 'log'))
    epmd_was_running = subprocess.run(['epmd', '-names'],
                                      capture_output=True).returncode == 0
    server = subprocess.Popen(['rabbitmq-server'], env=env, start_new_session=True,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        # await_startup fails at once until the node has registered.
        assert fleet.wait_for(lambda: subprocess.run(
            ['rabbitmqctl', '-n', node, 'await_startup'], env=env,
            timeout=TIMEOUT, capture_output=True).returncode == 0,
            TIMEOUT, interval=0.5), 'rabbitmq-server did not start'
        yield 'rabbit://guest:guest@127.0.0.1:%d/' % port
    finally:
        subprocess.run(['rabbitmqctl', '-n', node, 'stop'], env=env,
                       timeout=TIMEOUT, capture_output=True)
        server.wait(timeout=TIMEOUT)
        shutil.rmtree(base, ignore_errors=True)
        if not epmd_was_running:   # the node started it; it has no nodes now
            subprocess.run(['epmd', '-kill'], capture_output=True)


def script(name):
    return os.path.join(os.path.dirname(sys.executable), name)


def state(db, host):
    with sqlite3.connect(db) as conn:
        row = conn.execute('SELECT state, reason FROM sod_hosts WHERE host = ?',
                           (host,)).fetchone()
    return row or (None, None)


def wait_state(db, host, wanted):
    assert fleet.wait_for(lambda: state(db, host)[0] == wanted, TIMEOUT,
                          interval=0.1), state(db, host)


def test_monitor_and_agent_processes_over_rabbitmq(rabbit_url, tmp_path):
    db = tmp_path / 'sod.db'
    common = tmp_path / 'sod.conf'
    common.write_text(
        '[DEFAULT]\ntransport_url = %s\n[sod_database]\nconnection = sqlite:///%s\n'
        '[trust]\nreport_interval = 0.2\nevidence_max_age = 1.5\n'
        'stale_check_interval = 0.2\nmonitor_name = tm-proc\n' % (rabbit_url, db))
    manage = [script('sod-nova'), '--config-file', str(common)]
    subprocess.run(manage + ['db', 'sync'], check=True, capture_output=True)
    token = subprocess.run(
        manage + ['trust', 'token', 'create', 'hw1', '--architecture', 'HyperWall'],
        check=True, capture_output=True, text=True).stdout.strip()
    agent_conf = tmp_path / 'hw1.conf'
    agent_conf.write_text(
        '[trust]\nhost = hw1\nbackend = hyperwall\nprivate_key_file = %s\n'
        'enrollment_token = %s\n' % (tmp_path / 'hw1.key', token))
    agent_cmd = [script('sod-trust-agent'), '--config-file', str(common),
                 '--config-file', str(agent_conf)]
    procs = []

    def start(cmd):
        procs.append(subprocess.Popen(cmd, stdout=subprocess.DEVNULL,
                                      stderr=subprocess.DEVNULL))
        return procs[-1]

    try:
        start([script('sod-trust-monitor'), '--config-file', str(common)])
        agent = start(agent_cmd)
        wait_state(db, 'hw1', 'trusted')          # enrolled with the token
        agent.send_signal(signal.SIGTERM)
        assert agent.wait(timeout=TIMEOUT) == 0
        wait_state(db, 'hw1', 'unreachable')      # silent past evidence_max_age
        assert state(db, 'hw1')[1].startswith('no verified evidence for ')
        start(agent_cmd)                          # token used up: key enrolled
        wait_state(db, 'hw1', 'trusted')
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=TIMEOUT)
            except subprocess.TimeoutExpired:
                proc.kill()
