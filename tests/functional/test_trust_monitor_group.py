"""Two ``sod-trust-monitor`` processes as one group over RabbitMQ, one killed.

The group shares a topic, a database and a nonce key file; RabbitMQ hands
each report to one of them. One monitor is killed (SIGKILL) while the agents
report: nothing is misjudged: every host stays trusted, no report is
rejected, and the survivor keeps the hosts' evidence fresh. RabbitMQ is
Debian's ``rabbitmq-server``, installed by the functional env
(``tools/ensure-debs``) and started once for the session on free ports (the
``rabbitmq`` fixture); without it the test fails with the reason.
"""

import signal
import sqlite3
import subprocess

from functional import processes
from sod_nova.cloud import fleet
from sod_nova.trust import keys
from sod_nova.trust import nonces

TIMEOUT = processes.HANG
INTERVAL = 0.2
#: (host, state, reason) of every non-trusted row seen (diagnostics).
NOT_TRUSTED = set()


def rows(db):
    with sqlite3.connect(db) as conn:
        hosts = {h: (s, at) for h, s, at in conn.execute(
            'SELECT host, state, last_evidence_at FROM sod_hosts')}
        for h, s, r in conn.execute('SELECT host, state, reason FROM sod_hosts'):
            if s != 'trusted':
                NOT_TRUSTED.add((h, s, r))
        rejected = conn.execute(
            'SELECT COALESCE(SUM(count), 0) FROM sod_evidence_rejections'
        ).fetchone()[0]
    return hosts, rejected


def test_two_monitor_processes_one_killed_misjudge_nothing(rabbitmq, tmp_path):
    rabbit_url = rabbitmq.url
    db = tmp_path / 'sod.db'
    key_file = tmp_path / 'nonce.key'
    nonces.write_key(str(key_file))
    common = tmp_path / 'sod.conf'
    common.write_text(
        '[DEFAULT]\ntransport_url = %s\n[sod_database]\nconnection = sqlite:///%s\n'
        '[trust]\nreport_interval = %s\nevidence_max_age = 20.0\n'
        'stale_check_interval = 0.2\nmonitor_name = tm-group\n'
        'nonce_key_file = %s\n' % (rabbit_url, db, INTERVAL, key_file))
    manage = [processes.script('sod-nova'), '--config-file', str(common)]
    subprocess.run(manage + ['db', 'sync'], check=True, capture_output=True)
    challenge_key = tmp_path / 'challenge.pub'
    challenge_key.write_text(subprocess.run(
        manage + ['trust', 'challenge-key'], check=True, capture_output=True,
        text=True).stdout)
    hosts = ('hw1', 'hw2', 'hw3')
    agent_cmds = []
    for host in hosts:
        key = keys.load_or_create_private_key(str(tmp_path / ('%s.key' % host)))
        (tmp_path / ('%s.pub' % host)).write_text(keys.public_key_text(key))
        subprocess.run(manage + ['trust', 'enroll', host, '--architecture',
                                 'HyperWall', '--public-key',
                                 str(tmp_path / ('%s.pub' % host))],
                       check=True, capture_output=True)
        conf = tmp_path / ('%s.conf' % host)
        conf.write_text('[trust]\nhost = %s\nbackend = hyperwall\n'
                        'private_key_file = %s\nchallenge_public_key_file = %s\n'
                        % (host, tmp_path / ('%s.key' % host), challenge_key))
        agent_cmds.append([processes.script('sod-trust-agent'), '--config-file',
                           str(common), '--config-file', str(conf)])
    monitor_cmd = [processes.script('sod-trust-monitor'), '--config-file',
                   str(common)]
    procs = []

    def start(cmd):
        procs.append(subprocess.Popen(cmd, stdout=subprocess.DEVNULL,
                                      stderr=subprocess.DEVNULL))
        return procs[-1]

    try:
        first = start(monitor_cmd)
        start(monitor_cmd)
        for cmd in agent_cmds:
            start(cmd)
        for host in hosts:
            assert fleet.wait_for(
                lambda h=host: rows(db)[0].get(h, (None,))[0] == 'trusted',
                TIMEOUT), (host, rows(db))
        NOT_TRUSTED.clear()
        seen = set()

        def moved_on(marks):
            """Every host's evidence time moved past ``marks``; every state
            seen on the way is recorded."""
            current = rows(db)[0]
            seen.update(state for state, _ in current.values())
            return all(current[h][1] != marks[h] for h in hosts)

        def marks():
            return {h: at for h, (_, at) in rows(db)[0].items()}

        before = marks()
        assert fleet.wait_for(lambda: moved_on(before), TIMEOUT), rows(db)
        first.send_signal(signal.SIGKILL)      # mid-stream
        first.wait(timeout=TIMEOUT)
        # The survivor keeps every host fresh: the evidence time moves on
        # three times (a write at least every evidence_max_age/4). The
        # evidence age limit is generous: staleness is not what is tested
        # here, and the machine may be busy.
        for _ in range(3):
            before = marks()
            assert fleet.wait_for(lambda b=before: moved_on(b), TIMEOUT), rows(db)
        current, rejected = rows(db)
        assert {h: s for h, (s, _) in current.items()} == dict.fromkeys(
            hosts, 'trusted')
        assert seen == {'trusted'}, NOT_TRUSTED
        assert rejected == 0
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=TIMEOUT)
            except subprocess.TimeoutExpired:
                proc.kill()
