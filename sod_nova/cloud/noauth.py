"""A Nova connection for the embedded cloud, whose API trusts identity headers.

Nova's functional API fixture stubs Keystone out and builds the request
context from ``X-Auth-User``, ``X-Auth-Project-Id`` and ``X-Roles``. Only the
embedded cloud, its tests and benchmarks talk to such an API, so the
connection lives here and not in the migration manager's compute module
(a real deployment connects with ``[nova]``'s keystoneauth options).
"""

from keystoneauth1 import session as ks_session
from keystoneauth1 import token_endpoint

from sod_nova.relocation import compute as compute_mod


def connect(endpoint, project_id, user_id='admin',
            roles=('reader', 'member', 'admin')):
    """A :class:`~sod_nova.relocation.compute.NovaCompute` for ``endpoint``;
    the requests still go through keystoneauth and openstacksdk exactly as
    against a real cloud."""
    session = ks_session.Session(
        auth=token_endpoint.Token(endpoint, 'sod-nova-embedded'),
        additional_headers={'X-Auth-User': user_id,
                            'X-Auth-Project-Id': project_id,
                            'X-Roles': ','.join(roles)})
    return compute_mod.connect_session(session, endpoint)
