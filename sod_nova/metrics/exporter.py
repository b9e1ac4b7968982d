"""One process's metrics endpoint: a registry served over HTTP on a local port.

The server is prometheus-client's own (a thread), started and stopped with
the service; a port that cannot be bound stops the service at start.
"""

from oslo_log import log as logging
import prometheus_client

from sod_nova import exception

LOG = logging.getLogger(__name__)


class MetricsError(exception.SodNovaException, ValueError):
    """The metrics endpoint cannot listen where it is configured to (a
    ValueError: a service start ends on it with one line)."""


class Exporter:
    """The metrics of ``service`` on ``[sod_metrics] <port_option>``.

    ``registry`` gathers the service's metrics whether or not the endpoint
    is on (0: off), so the service code never asks.
    """

    def __init__(self, conf, port_option, service):
        self.registry = prometheus_client.CollectorRegistry()
        self.service = service
        # A configuration without [sod_metrics] (a library caller's, a
        # test's) serves none.
        group = getattr(conf, 'sod_metrics', None)
        self._host = group.bind_host if group is not None else None
        self._port = getattr(group, port_option) if group is not None else 0
        self._option = port_option
        self._server = self._thread = None

    @property
    def enabled(self):
        return self._port != 0

    @property
    def port(self):
        """The port it listens on (None when not listening)."""
        return self._server.server_port if self._server else None

    def start(self):
        if not self.enabled or self._server is not None:
            return
        try:
            self._server, self._thread = prometheus_client.start_http_server(
                self._port, self._host, self.registry)
        except OSError as exc:
            raise MetricsError(
                '[sod_metrics] %s: %s cannot serve metrics on %s:%d: %s' % (
                    self._option, self.service, self._host, self._port,
                    exc.strerror or exc)) from exc
        LOG.info('%(service)s: metrics on http://%(host)s:%(port)d/metrics',
                 {'service': self.service, 'host': self._host,
                  'port': self.port})

    def stop(self):
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()
        self._server = self._thread = None


def snapshot(counter):
    """A copy of ``counter`` (a dict another thread may be adding keys to)."""
    while True:
        try:
            return dict(counter)
        except RuntimeError:        # changed size during the copy
            continue
