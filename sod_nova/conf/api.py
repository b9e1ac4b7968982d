"""[sod_api] options: how sod-nova-api authenticates, pages and bounds input.

The group is ``sod_api``, not ``api``: sod-nova shares oslo.config's global
object with Nova in the embedded cloud, and Nova owns ``[api]``.
"""

from oslo_config import cfg

api_group = cfg.OptGroup(
    'sod_api',
    title='sod-nova API',
    help='The sod-nova-api WSGI service (hosts, catalogue, server security, '
         'audit trail and compliance reports).')

api_opts = [
    cfg.StrOpt(
        'auth_strategy',
        default='keystone',
        choices=[
            ('keystone', 'keystonemiddleware validates the X-Auth-Token of '
                         'every request ([keystone_authtoken])'),
            ('noauth2', 'tests only: the identity is taken from the '
                        'request headers (X-Auth-Token "user:project", '
                        'X-Roles) and forwarded to Nova as such'),
        ],
        help="""
How a request's identity is established.

Possible values:

* ``keystone`` (default): tokens are validated by keystonemiddleware; the
  caller's token is forwarded to Nova for server reads and writes.
* ``noauth2``: trust identity headers. Never in production: anybody can
  claim to be admin.

Related options:

* ``[keystone_authtoken]``
* ``[nova]`` (the service credentials sod-nova-api reads hosts of servers
  with)
"""),
    cfg.IntOpt(
        'max_limit',
        default=1000,
        min=1,
        help="""
Largest page of ``GET /audit`` (the ``limit`` query parameter).

Possible values:

* A positive number of audit entries; a larger ``limit`` is cut to it.
"""),
    cfg.IntOpt(
        'max_request_body_size',
        default=128 * 1024,
        min=1024,
        max=16 * 1024 * 1024,
        help="""
Largest request body sod-nova-api reads, in bytes.

A larger body is refused with 413 before authentication and before any of
it is read (a declared ``Content-Length``), or once this many bytes have
arrived (a chunked body), so no request makes the service hold more than
this in memory. The largest body a client needs is a ``POST
/requests/check`` naming a flavor's extra specs (each key and value at most
255 characters, as Nova keeps them): a few KiB for real flavors.

Possible values:

* A number of bytes from 1 KiB to 16 MiB (default 128 KiB).
"""),
]


def register_opts(conf):
    conf.register_group(api_group)
    conf.register_opts(api_opts, group=api_group)


def list_opts():
    return {api_group: api_opts}
