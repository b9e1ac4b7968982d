"""The fleet's controller: broker, database, monitor group, agent processes.

Starts (or joins) RabbitMQ and MariaDB on loopback, migrates a database of
the fleet's own, enrolls every host's key, starts ``sod-trust-monitor``
processes as one group (one name, topic, database and nonce key) and the
agent processes (:mod:`.agents`), and injects faults at known times.
"""

import json
import os
import secrets
import signal
import subprocess
import sys
import threading
import time

from oslo_config import cfg
import oslo_messaging
import pymysql

from benchmarks.fleet import cpu
from benchmarks.fleet import hosts as hosts_mod
from benchmarks.fleet import observer
from sod_nova import polling
from sod_nova.cloud import services
from sod_nova.conf import database as database_conf
from sod_nova.db import api as db_api
from sod_nova.db import enrollment as db_enrollment
from sod_nova.trust import keys
from sod_nova.trust import nonces

#: The repository root (agent processes run ``-m benchmarks.fleet`` there).
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
#: Evidence counts for this many report intervals (the defaults' ratio,
#: 10 s for 2 s): one lost report, or a monitor killed with it, never makes
#: a genuine host unreachable.
MAX_AGE_INTERVALS = 5
#: Faults the agent processes inject; attack and silence end a host's
#: genuineness, forged and replayed reports must change nothing.
ENDS_GENUINE = ('attack', 'silence')


def script(name):
    return os.path.join(os.path.dirname(sys.executable), name)


class AgentProcessClient:
    """One agent process and its command pipe."""

    def __init__(self, directory, spec):
        path = directory / ('%s.json' % spec['name'])
        path.write_text(json.dumps(spec))
        self.log_path = directory / ('%s.log' % spec['name'])
        with open(self.log_path, 'wb') as log:
            self.proc = subprocess.Popen(
                [sys.executable, '-m', 'benchmarks.fleet', str(path)],
                cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                stderr=log, text=True, bufsize=1)
        self.hosts = set(spec['hosts'])
        self._lock = threading.Lock()

    def ready(self):
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError('agent process %d ended at start:\n%s' % (
                self.proc.pid, self.log_path.read_text()[-3000:]))
        return json.loads(line)

    def ask(self, cmd, host=None):
        with self._lock:
            self.proc.stdin.write(json.dumps({'cmd': cmd, 'host': host}) + '\n')
            answer = json.loads(self.proc.stdout.readline())
        if 'error' in answer:
            raise RuntimeError('%s %s: %s' % (cmd, host, answer['error']))
        return answer

    def stop(self):
        if self.proc.poll() is None:
            try:
                self.proc.stdin.write(json.dumps({'cmd': 'stop'}) + '\n')
                self.proc.stdin.close()
                self.proc.wait(timeout=services.HANG)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()


class Cluster:
    """A fleet of ``hosts`` simulated hosts, ``monitors`` monitor processes
    and ``processes`` agent processes, reporting every ``report_interval``.

    ``rabbitmq``/``mariadb``: running :mod:`sod_nova.cloud.services`
    servers to use (default: the cluster starts and closes its own).
    ``directory``: a pathlib directory for configuration and logs.
    """

    def __init__(self, directory, hosts, monitors=2, processes=2,
                 report_interval=10.0, rabbitmq=None, mariadb=None):
        self.directory = directory
        self.hosts = [hosts_mod.name(i) for i in range(hosts)]
        self.report_interval = report_interval
        self.evidence_max_age = MAX_AGE_INTERVALS * report_interval
        self._n_monitors = monitors
        self._n_processes = processes
        self.rabbitmq, self.mariadb = rabbitmq, mariadb
        self._own = [s is None for s in (rabbitmq, mariadb)]
        self.seed = secrets.token_bytes(16)
        self.suffix = secrets.token_hex(4)
        self.monitors = []
        self.agents = []
        #: host -> (kind, wall-clock time) of each injection.
        self.injected = {}
        self.killed = []
        self.notifications = None
        self.rows = None
        self._transport = None

    # -- start and stop ---------------------------------------------------

    def start(self):
        if self.rabbitmq is None:
            self.rabbitmq = services.RabbitMQ().start()
        if self.mariadb is None:
            self.mariadb = services.MariaDB().start()
        self.url = self.mariadb.create_database('fleet')
        self.config_file = self._write_config()
        subprocess.run([script('sod-nova'), '--config-file',
                        str(self.config_file), 'db', 'sync'],
                       check=True, capture_output=True)
        self._enroll()
        self.rows = observer.HostRows(self.url)
        conf = cfg.ConfigOpts()
        self._transport = oslo_messaging.get_notification_transport(
            conf, url=self.rabbitmq.url)
        self.notifications = observer.Notifications(
            self._transport, 'sod-notifications-%s' % self.suffix)
        self.notifications.start()
        for _ in range(self._n_monitors):
            self.start_monitor()
        for i, share in enumerate(hosts_mod.shares(self.hosts,
                                                   self._n_processes)):
            self.agents.append(AgentProcessClient(self.directory, {
                'name': 'fleet-agents-%s-%d' % (self.suffix, i),
                'config_file': str(self.config_file), 'hosts': share,
                'seed': self.seed.hex(),
                'nonce_key_file': str(self.nonce_key_file)}))
        for client in self.agents:
            client.ready()
        self.started_at = time.time()
        return self

    def _write_config(self):
        self.nonce_key_file = self.directory / 'nonce.key'
        nonces.write_key(str(self.nonce_key_file))
        path = self.directory / 'fleet.conf'
        interval = self.report_interval
        path.write_text(
            '[DEFAULT]\ntransport_url = %s\n'
            '[sod_database]\nconnection = %s\n'
            '[sod_trust]\nreport_interval = %s\nevidence_max_age = %s\n'
            'nonce_max_age = %s\nstale_check_interval = %s\n'
            'monitor_name = fleet-group\nmonitor_topic = sod-trust-monitor-%s\n'
            'agent_topic = sod-trust-agent-%s\n'
            'notification_topic = sod-notifications-%s\nnonce_key_file = %s\n'
            % (self.rabbitmq.url, self.url, interval, self.evidence_max_age,
               max(30.0, 6 * interval), min(1.0, interval / 2),
               self.suffix, self.suffix, self.suffix, self.nonce_key_file))
        return path

    def _enroll(self):
        """Every host's key, as ``sod-nova trust enroll`` writes it, in one
        transaction."""
        conf = cfg.ConfigOpts()
        database_conf.register_opts(conf)
        conf([], default_config_files=[])
        conf.set_override('connection', self.url, group='sod_database')
        db_api.configure(conf)
        try:
            context = db_api.Context()
            with db_api.context_manager.writer.using(context):
                for host in self.hosts:
                    db_enrollment.enroll_key(
                        context, host, hosts_mod.ARCHITECTURE,
                        keys.public_key_text(hosts_mod.private_key(self.seed,
                                                                   host)))
        finally:
            db_api.dispose()

    def start_monitor(self):
        log = open(self.directory / ('monitor-%d.log' % len(self.monitors)),
                   'wb')
        with log:
            self.monitors.append(subprocess.Popen(
                [script('sod-trust-monitor'), '--config-file',
                 str(self.config_file)], stdout=log, stderr=subprocess.STDOUT))
        return self.monitors[-1]

    def stop(self):
        for client in self.agents:
            client.stop()
        for proc in self.monitors:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.monitors:
            try:
                proc.wait(timeout=services.HANG)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if self.notifications is not None:
            self.notifications.stop()
        if self._transport is not None:
            self._transport.cleanup()
        if self.rows is not None:
            self.rows.dispose()
        for own, server in zip(self._own, (self.rabbitmq, self.mariadb), strict=True):
            if own and server is not None:
                server.close()

    # -- waits and faults -------------------------------------------------

    def wait_all_trusted(self, timeout):
        """Wait until every host is trusted; whether they all are."""
        return polling.until(
            lambda: self.rows.counts().get('trusted', 0) == len(self.hosts),
            timeout, min(1.0, self.report_interval / 4))

    def _client(self, host):
        return next(c for c in self.agents if host in c.hosts)

    def inject(self, kind, host):
        """Inject fault ``kind`` (attack, silence, forge, replay) at
        ``host``; the wall-clock time it happened."""
        at = self._client(host).ask(kind, host)['at']
        self.injected.setdefault(host, []).append((kind, at))
        return at

    def genuine(self, host, at):
        """Whether ``host`` was genuine at ``at`` (no attack or silence yet)."""
        return not any(kind in ENDS_GENUINE and when <= at
                       for kind, when in self.injected.get(host, ()))

    def misjudged(self):
        """Trust changes away from trusted of hosts genuine at the time."""
        return self.notifications.misjudged(self.genuine)

    def kill_monitor(self, index=0):
        """SIGKILL one monitor (no clean-up runs in it); the time."""
        proc = self.monitors[index]
        at = time.time()
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=services.HANG)
        self.killed.append((index, at))
        return at

    def agent_stats(self):
        total = {}
        for client in self.agents:
            for key, value in client.ask('stats').items():
                total[key] = total.get(key, 0) + value
        return total

    # -- what the parts cost ------------------------------------------------

    def cpu_meter(self):
        """A :class:`cpu.Meter` of agents, monitors, RabbitMQ and MariaDB."""
        def trees(procs):
            return lambda: [p for proc in procs for p in cpu.tree(proc.pid)]
        return cpu.Meter({
            'agents': trees([c.proc for c in self.agents]),
            'monitors': trees(self.monitors),
            'rabbitmq': lambda: cpu.listening(self.rabbitmq.port),
            'mariadb': lambda: cpu.listening(self.mariadb.port)})

    def rows_written(self):
        """Table rows written, updated and deleted so far (the server's
        handler counters, every database; temporary tables not counted)."""
        with pymysql.connect(unix_socket=self.mariadb.socket,
                             user='root') as conn, conn.cursor() as cur:
            cur.execute("SHOW GLOBAL STATUS WHERE Variable_name IN "
                        "('Handler_write', 'Handler_update', 'Handler_delete')")
            return sum(int(v) for _, v in cur.fetchall())

    def queue_depths(self):
        """RabbitMQ queue -> messages waiting (the non-empty ones)."""
        out = subprocess.run(
            ['rabbitmqctl', '-n', self.rabbitmq.node, '-q', 'list_queues',
             'name', 'messages'], env=self.rabbitmq.env, capture_output=True,
            text=True, timeout=services.HANG).stdout
        depths = {}
        for line in out.splitlines():
            parts = line.split()
            if len(parts) == 2 and parts[1].isdigit() and int(parts[1]):
                depths[parts[0]] = int(parts[1])
        return depths
