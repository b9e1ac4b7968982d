"""Serve a WSGI application on loopback with threads, without uwsgi.

Keystone and Glance ship only WSGI applications (``keystone.wsgi.api``,
``glance.wsgi.api``; glance-api refuses to run standalone), and the test stack
has no uwsgi or Apache: the standard library's ``wsgiref`` server with one
thread per request is enough for one browser and a test client.

As a script it serves ``module:attribute`` in a subprocess::

    python -m sod_horizon.tests.browser._wsgi keystone.wsgi.api:application 127.0.0.1 5000
"""

import importlib
import logging
import socketserver
import sys
import threading
from wsgiref import simple_server

LOG = logging.getLogger(__name__)


class ThreadingWSGIServer(socketserver.ThreadingMixIn, simple_server.WSGIServer):
    """One thread per request: Horizon issues parallel calls per page."""

    daemon_threads = True
    allow_reuse_address = True


class _Handler(simple_server.WSGIRequestHandler):
    """Logs requests through ``logging`` instead of stderr lines per request."""

    def log_message(self, format, *args):  # noqa: A002 (base class signature)
        LOG.debug('%s %s', self.address_string(), format % args)


def make_server(app, host, port):
    """A started server for ``app`` on ``host:port`` (0: any free port), in a
    daemon thread; stop it with ``server.shutdown(); server.server_close()``."""
    server = simple_server.make_server(
        host, port, app, server_class=ThreadingWSGIServer, handler_class=_Handler)
    thread = threading.Thread(target=server.serve_forever, name='wsgi-%s' % port,
                              daemon=True)
    thread.start()
    return server


def main(argv=None):
    target, host, port = (argv or sys.argv[1:])[:3]
    # Keystone and Glance parse sys.argv with oslo.config when imported:
    # leave them only the program name.
    del sys.argv[1:]
    module, _, attribute = target.partition(':')
    app = getattr(importlib.import_module(module), attribute or 'application')
    server = simple_server.make_server(
        host, int(port), app, server_class=ThreadingWSGIServer, handler_class=_Handler)
    print('serving %s on http://%s:%s' % (target, host, port), flush=True)
    server.serve_forever()


if __name__ == '__main__':
    main()
