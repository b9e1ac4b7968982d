"""swtpm TPM hosts under two ``sod-trust-monitor`` processes, one killed.

The group shares a topic over RabbitMQ, a MariaDB database and a nonce key
file; RabbitMQ hands each report to either monitor, so a host's credential
may be sent by one member and its proof reach the other. One monitor is
killed (SIGKILL) while a host awaits its AK's activation. Nothing is
misjudged (no host row is ever anything but trusted), every host's AK is
activated and none is left with credentials pending: the survivor judges on
the TPM state the group keeps in the database. swtpm and tpm2-pytss come
with the functional env (tools/ensure-debs, tox's deps); RabbitMQ and
MariaDB are the session's ``rabbitmq`` and ``mariadb`` fixtures.
"""

import hashlib
import os

import pytest
import sqlalchemy as sa
import yaml

from functional import processes
from sod_nova.cloud import fleet
from sod_nova.cloud import swtpm
from sod_nova.trust import keys
from sod_nova.trust import measurements
from sod_nova.trust.backends import tpm as tpm_backend

HOSTS = ('tpm1', 'tpm2', 'tpm3')
PCR = 23
REPORT_INTERVAL = 0.5
#: Generous: a host's evidence must outlive the survivor taking over its
#: reports (its reports to the killed monitor are lost with it).
EVIDENCE_MAX_AGE = 30 * REPORT_INTERVAL


class GroupDb:
    """The group's tables as a reader sees them (the test's own engine),
    with the host states seen so far."""

    def __init__(self, url):
        self.engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
        #: host -> the (state, reason) it was seen in, in turn.
        self.history = {}

    def _query(self, text):
        try:
            with self.engine.connect() as conn:
                return conn.execute(sa.text(text)).all()
        except sa.exc.OperationalError:
            return None

    def hosts(self):
        """host -> (state, reason, last_evidence_at); states are recorded."""
        rows = self._query('SELECT host, state, reason, last_evidence_at '
                           'FROM sod_hosts') or []
        for host, state, reason, _ in rows:
            seen = self.history.setdefault(host, [])
            if not seen or seen[-1] != (state, reason):
                seen.append((state, reason))
        return {r[0]: tuple(r[1:]) for r in rows}

    def misjudged(self):
        """Hosts ever untrusted, or not trusted after their first trust."""
        trusted = ('trusted', 'evidence verified')
        return {host: seen for host, seen in self.history.items()
                if any(s == 'untrusted' for s, _ in seen)
                or trusted not in seen
                or seen[seen.index(trusted):] != [trusted]}

    def activated(self):
        """Hosts whose AK is stored in their enrollment row."""
        rows = self._query('SELECT host FROM sod_trust_enrollments '
                           'WHERE tpm_ak IS NOT NULL') or []
        return {r[0] for r in rows}

    def pending(self):
        """Hosts with credentials awaiting a proof."""
        rows = self._query('SELECT host FROM sod_tpm_states '
                           'WHERE pending_ak IS NOT NULL') or []
        return {r[0] for r in rows}

    def rejections(self):
        return self._query('SELECT host, code, count FROM '
                           'sod_evidence_rejections') or []


@pytest.fixture
def tpms():
    started = [swtpm.SwTpm().start() for _ in HOSTS]
    yield dict(zip(HOSTS, started, strict=True))
    for tpm in started:
        tpm.stop()


def _setup(tmp_path, rabbit_url, db_url, tpms):
    """The group's and each agent's configuration files, the hosts enrolled
    with their keys and EKs, as an operator does it."""
    boot_files = []
    for name in ('vmlinuz', 'initrd.img', 'nova-compute'):
        path = tmp_path / name
        path.write_bytes(('%s image' % name).encode())
        boot_files.append(str(path))
    log = [measurements.Event(PCR, hashlib.sha256(open(f, 'rb').read()).hexdigest(),
                              os.path.basename(f)) for f in boot_files]
    refs = tmp_path / 'references.yaml'
    refs.write_text(yaml.safe_dump({'TPM': measurements.replay(log)}))
    common = tmp_path / 'sod.conf'
    common.write_text(
        '[DEFAULT]\ntransport_url = %s\n[sod_database]\nconnection = %s\n'
        '[sod_trust]\nreport_interval = %s\nevidence_max_age = %s\n'
        'stale_check_interval = %s\nmonitor_name = tm-tpm-group\n'
        'nonce_key_file = %s\nreference_values_file = %s\n' % (
            rabbit_url, db_url, REPORT_INTERVAL, EVIDENCE_MAX_AGE,
            REPORT_INTERVAL, processes.group_keys(tmp_path), refs))
    processes.manage(common, 'db', 'sync')
    challenge_key = processes.challenge_key_file(common, tmp_path)
    agent_confs = {}
    for host, tpm in tpms.items():
        key_file = tmp_path / ('%s.key' % host)
        key = keys.load_or_create_private_key(str(key_file))
        (tmp_path / ('%s.pub' % host)).write_text(keys.public_key_text(key))
        backend = tpm_backend.TpmBackend(tcti=tpm.tcti)
        try:   # what sod-trust-agent prints for the operator
            (tmp_path / ('%s.ek' % host)).write_text(
                backend.identity()['tpm_ek'])
        finally:
            backend.close()
        processes.manage(common, 'trust', 'enroll', host, '--architecture',
                         'TPM', '--public-key', str(tmp_path / ('%s.pub' % host)),
                         '--tpm-ek', str(tmp_path / ('%s.ek' % host)))
        conf = tmp_path / ('%s.conf' % host)
        conf.write_text(
            '[sod_trust]\nhost = %s\nbackend = tpm\ntpm_tcti = %s\n'
            'tpm_pcr = %d\ntpm_measured_files = %s\nprivate_key_file = %s\n'
            'challenge_public_key_file = %s\n' % (
                host, tpm.tcti, PCR, ','.join(boot_files), key_file,
                challenge_key))
        agent_confs[host] = conf
    return common, agent_confs


def test_tpm_hosts_under_two_monitors_one_killed_misjudge_nothing(
        rabbitmq, mysql_url, tpms, tmp_path):
    common, agent_confs = _setup(tmp_path, rabbitmq.url, mysql_url, tpms)
    db = GroupDb(mysql_url)
    procs = processes.Processes(tmp_path)
    try:
        first = procs.start('sod-trust-monitor', common)
        procs.start('sod-trust-monitor', common)
        # Killed mid-stream, at the first host seen awaiting activation (a
        # credential pending for its AK, not activated yet), else once every
        # agent runs: the agents start one by one, each watched until its
        # host awaits activation or is activated.
        for host in HOSTS:
            procs.start('sod-trust-agent', common, agent_confs[host])
            if first.poll() is not None:
                continue

            def progress(h=host):
                db.hosts()
                if h in db.pending() - db.activated():
                    return 'awaiting'
                return 'activated' if h in db.activated() else None
            seen = fleet.wait_for(progress, processes.HANG, interval=0.005)
            assert seen, procs.logs()
            if seen == 'awaiting':
                procs.kill9(first)
        if first.poll() is None:
            procs.kill9(first)

        def all_trusted():
            rows = db.hosts()
            return (db.activated() == set(HOSTS) and set(rows) == set(HOSTS)
                    and all(r[0] == 'trusted' for r in rows.values()))
        procs.wait(all_trusted, 'every host activated and trusted (%r)'
                   % db.hosts())

        def moved_on(marks):
            rows = db.hosts()
            return all(rows[h][2] != marks[h] for h in HOSTS)
        # The survivor keeps every host fresh: each host row's evidence time
        # moves on twice (it is written at least every evidence_max_age/4).
        for _ in range(2):
            marks = {h: r[2] for h, r in db.hosts().items()}
            procs.wait(lambda m=marks: moved_on(m),
                       'fresh evidence of every host after %r' % marks)
        assert set(db.history) == set(HOSTS)
        assert db.misjudged() == {}
        # No credential lost: none left pending, and no host ever alerted
        # as leaving the credentials it was sent unanswered (another TPM's
        # alert: a proof refused by the member that did not send its
        # credential). No report refused as unattributable either.
        assert db.pending() == set(), db.pending()
        assert db.rejections() == [], procs.logs()
        assert all(p.poll() is None for p in procs.procs if p is not first), (
            procs.logs())
    finally:
        procs.close()
