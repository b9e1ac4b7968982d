"""[sod_api] options: how sod-nova-api authenticates and pages.

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
]


def register_opts(conf):
    conf.register_group(api_group)
    conf.register_opts(api_opts, group=api_group)


def list_opts():
    return {api_group: api_opts}
