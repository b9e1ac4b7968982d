"""Servers, through Nova's API: as the caller sees them, and where they run.

Reads that decide visibility and every metadata write use the caller's
token, so Nova's policy applies; only a server's compute host is read as
sod-nova-api's service user (``[nova]`` credentials).

See doc/source/contributor/api-and-cli.rst.
"""

import urllib.parse

from keystoneauth1 import exceptions as ks_exc
from keystoneauth1 import loading as ks_loading
from keystoneauth1 import token_endpoint

from sod_nova import exception
from sod_nova.relocation import compute as compute_mod

#: 2.47: the flavor (with extra specs) is embedded in the server.
MICROVERSION = 'compute 2.90'


class NovaUnavailable(exception.SodNovaException):
    """Nova could not be reached or found (502/503 to the caller)."""


class NovaRefused(exception.SodNovaException):
    """Nova answered an error; ``status`` is its HTTP status."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


class ServerNotFound(exception.SodNovaException):
    """Nova has no such server, or does not show it to the caller."""


def _endpoint_from_catalog(catalog, interface, region):
    """The compute URL of ``catalog``: keystonemiddleware passes the v2
    form (``publicURL``...), a v3 token body has ``interface``/``url``."""
    for service in catalog or ():
        if service.get('type') != 'compute':
            continue
        for endpoint in service.get('endpoints', ()):
            if region and region not in (endpoint.get('region'),
                                         endpoint.get('region_id')):
                continue
            if 'interface' in endpoint:
                if endpoint['interface'] == interface:
                    return endpoint.get('url')
            elif endpoint.get('%sURL' % interface):
                return endpoint['%sURL' % interface]
    return None


def _fault(resp):
    try:
        body = resp.json()
        detail = next(iter(body.values()))
        return detail.get('message') or str(detail)
    except (ValueError, AttributeError, StopIteration, TypeError):
        return resp.text[:200]


class Nova:
    """Nova's API for sod-nova-api (see the module docstring)."""

    def __init__(self, conf, service=None):
        self.conf = conf
        self._service = service

    # -- connections ---------------------------------------------------------

    def service(self):
        """The service user's :class:`~sod_nova.relocation.compute.NovaCompute`."""
        if self._service is None:
            try:
                self._service = compute_mod.connect(self.conf)
            except compute_mod.NovaError as exc:
                raise NovaUnavailable(str(exc)) from exc
        return self._service

    def endpoint(self, context):
        nova = self.conf.nova
        url = nova.endpoint_override or _endpoint_from_catalog(
            context.service_catalog, nova.interface, nova.region_name)
        if not url:
            raise NovaUnavailable(
                'no compute endpoint: set [nova] endpoint_override or give '
                'the API a token with a service catalog')
        return url.rstrip('/')

    def _session(self, context):
        endpoint = self.endpoint(context)
        headers = {'OpenStack-API-Version': MICROVERSION}
        if self.conf.sod_api.auth_strategy == 'noauth2':
            headers.update({'X-Auth-User': context.user_id or '',
                            'X-Auth-Project-Id': context.project_id or '',
                            'X-Roles': ','.join(context.roles)})
        auth = token_endpoint.Token(endpoint, context.auth_token or '')
        session = ks_loading.load_session_from_conf_options(
            self.conf, 'nova', auth=auth)
        session.additional_headers.update(headers)
        return session, endpoint

    def _call(self, context, method, path, **kwargs):
        session, endpoint = self._session(context)
        try:
            resp = session.request(endpoint + path, method, raise_exc=False,
                                   **kwargs)
        except ks_exc.ClientException as exc:
            raise NovaUnavailable('Nova at %s: %s' % (endpoint, exc)) from exc
        if resp.status_code >= 400:
            if resp.status_code == 404:
                raise ServerNotFound(_fault(resp))
            raise NovaRefused(resp.status_code, _fault(resp))
        return resp

    # -- the caller's view ---------------------------------------------------

    def get(self, context, server_id):
        """The server as Nova shows it to the caller (a dict)."""
        body = self._call(context, 'GET', '/servers/%s' % _segment(server_id)
                          ).json()
        if not isinstance(body, dict) or not isinstance(body.get('server'), dict):
            # Another of Nova's resources (``/servers/detail``): no server.
            raise ServerNotFound('no server with that id')
        return body['server']

    def list(self, context, all_projects=False):
        """The caller's project's servers (every project's, which Nova
        allows only an admin) as Nova shows them (dicts)."""
        path = '/servers/detail' + ('?all_tenants=1' if all_projects else '')
        return self._call(context, 'GET', path).json()['servers']

    def write_metadata(self, context, server_id, values, delete):
        """Set ``values`` in one call, then delete the keys ``delete`` in
        that order, all with the caller's token."""
        if values:
            self._call(context, 'POST', '/servers/%s/metadata'
                       % _segment(server_id), json={'metadata': values})
        for key in delete:
            try:
                self._call(context, 'DELETE', '/servers/%s/metadata/%s'
                           % (_segment(server_id), _segment(key)))
            except ServerNotFound:
                pass    # already gone: the end state is what was asked

    # -- the service user's view ---------------------------------------------

    def on_host(self, host):
        """The ServerViews of every server on compute ``host`` (service user)."""
        try:
            return self.service().servers(host=host)
        except compute_mod.NovaError as exc:
            raise NovaUnavailable(str(exc)) from exc

    def located(self, server_id):
        """The :class:`~sod_nova.relocation.server.ServerView` of the server
        as the service user sees it (with its compute host), or None."""
        try:
            return self.service().server(server_id)
        except compute_mod.NovaError as exc:
            raise NovaUnavailable(str(exc)) from exc


def _segment(value):
    """``value`` as one path segment of a Nova URL: a caller's ``/``, ``?``
    or ``#`` never reaches another resource or adds a query to the call Nova
    gets with the caller's token."""
    return urllib.parse.quote(str(value), safe='')
