"""A small REST client of sod-nova-api over a keystoneauth session."""

from keystoneauth1 import exceptions as ks_exc
from osc_lib import exceptions

SERVICE_TYPE = 'security-on-demand'
VERSION_HEADER = 'security-on-demand 1.0'
#: The request check asks for the guest-aware answer (see microversion.py).
CHECK_VERSION_HEADER = 'security-on-demand 1.2'


class Client:
    """sod-nova-api, version 1.0 (1.2 for the request check): one method
    per resource."""

    def __init__(self, session, endpoint):
        if not endpoint:
            raise exceptions.CommandError(
                'no %s endpoint: register sod-nova-api in the service '
                'catalog or give --os-security-on-demand-url' % SERVICE_TYPE)
        self.session = session
        self.endpoint = endpoint.rstrip('/')

    def _request(self, method, path, version=VERSION_HEADER, **kwargs):
        try:
            resp = self.session.request(
                self.endpoint + path, method, raise_exc=False,
                headers={'OpenStack-API-Version': version,
                         'Accept': 'application/json'}, **kwargs)
        except ks_exc.ClientException as exc:
            raise exceptions.CommandError(
                'sod-nova API at %s: %s' % (self.endpoint, exc)) from exc
        if resp.status_code >= 400:
            try:
                error = resp.json()['errors'][0]
                message = '%s (HTTP %s, %s)' % (error['detail'],
                                                resp.status_code,
                                                error.get('code'))
            except (ValueError, KeyError, IndexError, TypeError):
                message = 'HTTP %s: %s' % (resp.status_code, resp.text[:200])
            raise exceptions.CommandError(message)
        return resp.json()

    def hosts(self):
        return self._request('GET', '/hosts')['hosts']

    def host(self, name):
        return self._request('GET', '/hosts/%s' % name)['host']

    def evacuation_plan(self, name):
        return self._request('GET', '/hosts/%s/evacuation-plan' % name)['vms']

    def catalog(self):
        return self._request('GET', '/catalog')

    def architecture(self, name):
        return self._request('GET', '/catalog/%s' % name)['architecture']

    def check(self, body):
        """The answer of version 1.2: for ``body['guest']`` where given, and
        naming the rows that protect only a guest launched for them."""
        return self._request('POST', '/requests/check',
                             version=CHECK_VERSION_HEADER, json=body)

    def security(self, server_id):
        return self._request('GET', '/servers/%s/security'
                             % server_id)['security']

    def set_security(self, server_id, body):
        return self._request('PUT', '/servers/%s/security' % server_id,
                             json=body)['security']

    def audit(self, marker=None, limit=None):
        params = {}
        if marker is not None:
            params['marker'] = marker
        if limit is not None:
            params['limit'] = limit
        return self._request('GET', '/audit', params=params)

    def compliance(self, server_id=None, start=None, end=None,
                   all_projects=False):
        params = {k: v for k, v in (('start', start), ('end', end))
                  if v is not None}
        if server_id:
            return [self._request('GET', '/servers/%s/compliance'
                                  % server_id, params=params)['compliance']]
        if all_projects:
            params['all_projects'] = '1'
        return self._request('GET', '/compliance',
                             params=params)['compliance']
