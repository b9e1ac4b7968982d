"""Real RabbitMQ and MariaDB on loopback, without systemd, for the functional
tests and the benchmarks that run over them.

Each server runs from a private directory on free ports until the session
ends; a missing package fails with :class:`ServiceUnavailable`, never a skip
(details: ``doc/source/contributor/simulator.rst``).
"""

import os
import pathlib
import shutil
import signal
import socket
import subprocess
import tempfile

import pymysql

from sod_nova import exception
from sod_nova import polling

#: Seconds after which a server that has not come up (or down) is hung.
HANG = 180


class ServiceUnavailable(exception.SodNovaException, RuntimeError):
    """A real service a test needs cannot run here (one-line reason)."""


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def _require(binaries, package, user):
    missing = [b for b in binaries if shutil.which(b) is None]
    if missing:
        raise ServiceUnavailable(
            '%s not found: install the Debian package %s (tools/ensure-debs %s, '
            'as root; tox -e functional does it)' % (
                ', '.join(missing), package, package))
    if os.geteuid() != 0:
        raise ServiceUnavailable(
            '%s must be started as root (it runs as the %s user)' % (
                package, user))


def _wait(predicate, what, proc=None):
    """Poll ``predicate`` until true; fail if ``proc`` died or it hangs."""
    def ready():
        if predicate():
            return True
        if proc is not None and proc.poll() is not None:
            raise ServiceUnavailable('%s exited with status %s' % (
                what, proc.returncode))
        return False

    if not polling.until(ready, HANG, 0.1):
        raise ServiceUnavailable('%s did not come up in %d s' % (what, HANG))


def _private_dir(prefix, user):
    base = pathlib.Path(tempfile.mkdtemp(prefix=prefix))
    shutil.chown(base, user, user)
    return base


class RabbitMQ:
    """One RabbitMQ node (Debian's ``rabbitmq-server``); ``url`` for clients."""

    def __init__(self):
        _require(['rabbitmq-server', 'rabbitmqctl', 'epmd'], 'rabbitmq-server',
                 'rabbitmq')
        self.base = _private_dir('sod-rabbit-', 'rabbitmq')
        self.port = free_port()
        self.node = 'sodtest%d@localhost' % os.getpid()
        self.env = dict(
            os.environ, RABBITMQ_NODENAME=self.node,
            RABBITMQ_NODE_PORT=str(self.port),
            RABBITMQ_DIST_PORT=str(free_port()),
            RABBITMQ_MNESIA_BASE=str(self.base / 'mnesia'),
            RABBITMQ_LOG_BASE=str(self.base / 'log'))
        self.url = 'rabbit://guest:guest@127.0.0.1:%d/' % self.port
        self._epmd_was_running = subprocess.run(
            ['epmd', '-names'], capture_output=True).returncode == 0
        self._proc = None

    def _ctl(self, *args):
        return subprocess.run(['rabbitmqctl', '-n', self.node, *args],
                              env=self.env, timeout=HANG, capture_output=True)

    def start(self):
        self._proc = subprocess.Popen(
            ['rabbitmq-server'], env=self.env, start_new_session=True,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        # await_startup fails at once until the node has registered.
        _wait(lambda: self._ctl('await_startup').returncode == 0,
              'rabbitmq-server (node %s, port %d)' % (self.node, self.port),
              self._proc)
        return self

    def stop(self):
        if self._proc is None:
            return
        self._ctl('stop')
        try:
            self._proc.wait(timeout=HANG)
        except subprocess.TimeoutExpired:
            os.killpg(self._proc.pid, signal.SIGKILL)
            self._proc.wait()
        self._proc = None

    def restart(self):
        """Stop the node (every client connection drops) and start it again."""
        self.stop()
        return self.start()

    def close(self):
        self.stop()
        shutil.rmtree(self.base, ignore_errors=True)
        if not self._epmd_was_running:   # the node started it; no nodes now
            subprocess.run(['epmd', '-kill'], capture_output=True)


class MariaDB:
    """One MariaDB server (Debian's ``mariadb-server``) in a private datadir.

    :meth:`create_database` gives each test a database of its own; clients
    connect as the ``sod`` user over TCP, as services do.
    """

    USER = 'sod'
    PASSWORD = 'sod'

    def __init__(self):
        _require(['mariadbd', 'mariadb-install-db'], 'mariadb-server', 'mysql')
        self.base = _private_dir('sod-mariadb-', 'mysql')
        self.port = free_port()
        self.socket = str(self.base / 'sock')
        self._proc = None
        self._count = 0
        subprocess.run(
            ['mariadb-install-db', '--user=mysql',
             '--datadir=%s' % (self.base / 'data'),
             '--auth-root-authentication-method=normal'],
            check=True, capture_output=True, timeout=HANG)

    def _admin(self):
        return pymysql.connect(unix_socket=self.socket, user='root',
                               autocommit=True)

    def _answers(self):
        try:
            self._admin().close()
            return True
        except pymysql.err.OperationalError:
            return False

    def start(self):
        self._proc = subprocess.Popen(
            ['mariadbd', '--user=mysql', '--datadir=%s' % (self.base / 'data'),
             '--socket=%s' % self.socket, '--port=%d' % self.port,
             '--bind-address=127.0.0.1', '--skip-name-resolve',
             '--pid-file=%s' % (self.base / 'pid')],
            start_new_session=True, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        _wait(self._answers, 'mariadbd (port %d)' % self.port, self._proc)
        with self._admin() as conn, conn.cursor() as cur:
            cur.execute("CREATE USER IF NOT EXISTS %s@'127.0.0.1' "
                        "IDENTIFIED BY %s", (self.USER, self.PASSWORD))
        return self

    def stop(self):
        if self._proc is None:
            return
        self._proc.terminate()
        try:
            self._proc.wait(timeout=HANG)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        self._proc = None

    def restart(self):
        """Stop the server (every connection drops) and start it again."""
        self.stop()
        return self.start()

    def create_database(self, prefix='sod'):
        """A new empty database the ``sod`` user owns; its oslo.db URL."""
        self._count += 1
        name = '%s_%d' % (prefix, self._count)
        with self._admin() as conn, conn.cursor() as cur:
            cur.execute('CREATE DATABASE `%s` CHARACTER SET utf8mb4' % name)
            cur.execute("GRANT ALL ON `%s`.* TO %%s@'127.0.0.1'" % name,
                        (self.USER,))
        return self.url(name)

    def url(self, database):
        return 'mysql+pymysql://%s:%s@127.0.0.1:%d/%s' % (
            self.USER, self.PASSWORD, self.port, database)

    def close(self):
        self.stop()
        shutil.rmtree(self.base, ignore_errors=True)
