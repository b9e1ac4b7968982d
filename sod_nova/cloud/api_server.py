"""sod-nova-api on a loopback port, for tests, the demo and clients.

The real WSGI application (:func:`sod_nova.api.deploy.deploy`) behind
wsgiref's server in a thread: what ``openstack`` and Horizon reach over
HTTP in tests, without a uwsgi.
"""

import socketserver
import threading
from wsgiref import simple_server

import fixtures

from sod_nova.api import deploy


class _Server(socketserver.ThreadingMixIn, simple_server.WSGIServer):
    daemon_threads = True
    allow_reuse_address = True


class _QuietHandler(simple_server.WSGIRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 (base signature)
        pass


class LoopbackAPI(fixtures.Fixture):
    """Serve sod-nova-api on ``127.0.0.1``; ``url`` once set up.

    :param conf: the configuration the API runs with.
    :param nova_service: the service user's NovaCompute (see
        :func:`~sod_nova.api.deploy.deploy`).
    """

    def __init__(self, conf, nova_service=None, host='127.0.0.1'):
        super().__init__()
        self.conf = conf
        self.nova_service = nova_service
        self.host = host

    def _setUp(self):
        self.app = deploy.deploy(self.conf, nova_service=self.nova_service)
        self.addCleanup(self.app.sod_metrics.stop)
        self.server = simple_server.make_server(
            self.host, 0, self.app, server_class=_Server,
            handler_class=_QuietHandler)
        self.url = 'http://%s:%d' % (self.host, self.server.server_port)
        thread = threading.Thread(target=self.server.serve_forever,
                                  name='sod-nova-api', daemon=True)
        thread.start()
        self.addCleanup(thread.join, 10)
        self.addCleanup(self.server.server_close)
        self.addCleanup(self.server.shutdown)
