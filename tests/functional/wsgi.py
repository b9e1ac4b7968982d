"""The embedded Nova's API over HTTP on loopback, for processes to reach it.

``EmbeddedNova`` serves its API through wsgi-intercept, inside the test
process only; a console script in another process needs a real socket. The
standard library's ``wsgiref`` server with a thread per request serves the
same WSGI application. In front of it :class:`AdminIdentity` stands in for
keystonemiddleware: it adds the identity headers that Nova's API fixture
builds its request context from (the admin of the fixture's project), as
auth_token does from a validated token.
"""

import socketserver
import threading
from wsgiref import simple_server

HOST = '127.0.0.1'


class _Server(socketserver.ThreadingMixIn, simple_server.WSGIServer):
    daemon_threads = True


class _Quiet(simple_server.WSGIRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 (base class signature)
        pass


class AdminIdentity:
    def __init__(self, app, project_id):
        self.app = app
        self.headers = {'HTTP_X_AUTH_USER': 'admin',
                        'HTTP_X_AUTH_PROJECT_ID': project_id,
                        'HTTP_X_ROLES': 'reader,member,admin'}

    def __call__(self, environ, start_response):
        environ.update(self.headers)
        return self.app(environ, start_response)


class NovaServer:
    """A running server; ``endpoint`` is the compute API URL; ``close()``."""

    def __init__(self, nova):
        self._server = simple_server.make_server(
            HOST, 0, AdminIdentity(nova.api_fixture.app(),
                                nova.api_fixture.project_id),
            server_class=_Server, handler_class=_Quiet)
        self.endpoint = 'http://%s:%d/v2.1' % (HOST, self._server.server_port)
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        name='nova-api-http', daemon=True)
        self._thread.start()

    def close(self):
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()


def serve_nova(nova):
    return NovaServer(nova)
