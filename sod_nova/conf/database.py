"""[sod_database] options: where sod-nova's own tables live.

Not oslo.db's ``[database]``, which nova-scheduler (where the filter runs)
already uses for Nova's cell database. The options are copies of oslo.db's,
handed to the engine facade as they are.
See doc/source/contributor/api-and-cli.rst.
"""

from oslo_config import cfg

database_group = cfg.OptGroup(
    'sod_database',
    title='sod-nova database',
    help="""
The database of sod-nova: host capability rows written by the trust monitor
and read by the SecurityOnDemandFilter in nova-scheduler. Every process of
sod-nova (nova-scheduler with the filter, the trust monitor, the relocation
engine, the ``sod-nova`` command) must point at the same database. Create or
upgrade it with ``sod-nova db sync``.
""")

DEFAULT_CONNECTION = 'sqlite:////var/lib/sod-nova/sod_nova.sqlite'

database_opts = [
    cfg.StrOpt(
        'connection',
        default=DEFAULT_CONNECTION,
        secret=True,
        help="""
SQLAlchemy URL of sod-nova's database.

Possible values:

* A SQLite file URL (default ``%s``; the directory must exist). Fine for one
  controller; every process that uses it must see the same file.
* Any oslo.db URL, e.g. ``mysql+pymysql://sod:PASS@controller/sod_nova``
  (production: nova-scheduler and the trust monitor on different hosts).
""" % DEFAULT_CONNECTION),
    cfg.StrOpt(
        'connection_parameters',
        default='',
        help='Optional URL parameters appended to ``connection`` '
             '(``param1=value1&param2=value2``).'),
    cfg.BoolOpt(
        'sqlite_synchronous',
        default=True,
        help='Whether SQLite waits for data to reach the disk '
             '(``PRAGMA synchronous``).'),
    cfg.IntOpt(
        'connection_recycle_time',
        default=3600,
        min=1,
        help='Seconds after which a pooled connection is replaced.'),
    cfg.IntOpt(
        'max_pool_size',
        default=5,
        min=0,
        help='Largest number of pooled connections (0: no limit).'),
    cfg.IntOpt(
        'max_overflow',
        default=50,
        min=0,
        help='Connections allowed beyond ``max_pool_size``.'),
    cfg.IntOpt(
        'pool_timeout',
        min=1,
        help='Seconds to wait for a pooled connection.'),
    cfg.IntOpt(
        'max_retries',
        default=10,
        min=-1,
        help='Attempts to connect at start (-1: forever).'),
    cfg.IntOpt(
        'retry_interval',
        default=10,
        min=0,
        help='Seconds between attempts to connect at start.'),
    cfg.IntOpt(
        'connection_debug',
        default=0,
        min=0,
        max=100,
        help='SQL debug logging: 0 none, 50 statements, 100 everything.'),
]


def register_opts(conf):
    conf.register_group(database_group)
    conf.register_opts(database_opts, group=database_group)


def list_opts():
    return {database_group: database_opts}
