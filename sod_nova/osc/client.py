"""sod-nova-api's REST client: a keystoneauth Adapter at a negotiated version.

Unless the user names a version (``--os-sod-api-version``), the client reads
the API's version document (``GET /``) and speaks the newest version both
sides know, as openstacksdk does; a version the server does not serve is
refused in one line before any request is sent.
"""

import functools

from keystoneauth1 import discover
from keystoneauth1 import exceptions as ks_exc
from osc_lib import exceptions

SERVICE_TYPE = 'security-on-demand'
#: The versions this client reads (their history: sod_nova/api/microversion.py).
MIN_VERSION = '1.0'
MAX_VERSION = '1.3'
#: What ``--os-sod-api-version`` takes as "the newest both sides know".
NEGOTIATE = ('1',)
OURS = (discover.normalize_version_number(MIN_VERSION),
        discover.normalize_version_number(MAX_VERSION))


def _version(text):
    """``(1, 2)`` of ``'1.2'``, or a CommandError naming the option."""
    try:
        version = discover.normalize_version_number(text)
    except TypeError:
        version = ()
    if len(version) != 2 or discover.version_to_string(version) != text.strip():
        raise exceptions.CommandError(
            '--os-sod-api-version %r: not a version (give MAJOR.MINOR, e.g. '
            '%s)' % (text, MAX_VERSION))
    return version


def check_version(requested):
    """``(1, 2)`` of ``'1.2'``, None for one of :data:`NEGOTIATE`; a
    CommandError for a version this client does not read."""
    if requested in (None, *NEGOTIATE):
        return None
    wanted = _version(requested)
    if not OURS[0] <= wanted <= OURS[1]:
        raise exceptions.CommandError(
            'sod-nova API version %s is not one this client reads (%s to %s)'
            % (requested, MIN_VERSION, MAX_VERSION))
    return wanted


def negotiate(adapter, requested=None):
    """The version to speak with the API behind ``adapter``: ``requested``
    if the server serves it and this client reads it, else the newest both
    know (``requested`` None or one of :data:`NEGOTIATE`)."""
    wanted = check_version(requested)
    try:
        data = adapter.get_endpoint_data()
    except ks_exc.ClientException as exc:
        raise exceptions.CommandError('sod-nova API: %s' % exc) from exc
    if data is None:
        raise exceptions.CommandError(
            'no %s endpoint: register sod-nova-api in the service '
            'catalog or give --os-security-on-demand-url' % SERVICE_TYPE)
    served = (data.min_microversion or OURS[0], data.max_microversion or OURS[0])
    if wanted is None:
        wanted = min(OURS[1], served[1])
    if not served[0] <= wanted <= served[1]:
        raise exceptions.CommandError(
            'sod-nova API version %s is not served by %s (it serves %s to %s;'
            ' this client reads %s to %s)' % (
                discover.version_to_string(wanted), data.url,
                *map(discover.version_to_string, served),
                MIN_VERSION, MAX_VERSION))
    return discover.version_to_string(wanted)


class Client:
    """sod-nova-api through a keystoneauth ``Adapter``: one method per
    resource, every request at the negotiated version."""

    def __init__(self, adapter, api_version=None):
        self.adapter = adapter
        self.requested = api_version

    @functools.cached_property
    def api_version(self):
        """The negotiated version, set as the adapter's default."""
        self.adapter.default_microversion = negotiate(self.adapter, self.requested)
        return self.adapter.default_microversion

    def _request(self, method, path, **kwargs):
        version = self.api_version
        try:
            resp = self.adapter.request(
                path, method, raise_exc=False, microversion=version,
                headers={'Accept': 'application/json'}, **kwargs)
        except ks_exc.ClientException as exc:
            raise exceptions.CommandError(
                'sod-nova API at %s: %s' % (self.adapter.get_endpoint(), exc)) from exc
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
        """The request check; from 1.2 for ``body['guest']`` where given,
        naming the rows that protect only a guest launched for them."""
        return self._request('POST', '/requests/check', json=body)

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
