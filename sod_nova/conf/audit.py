"""[sod_audit] options: the key that binds the migration manager's audit chain.

The chain lives in sod-nova's database; its key does not. Whoever can write
the database but has no key cannot rewrite, reorder, renumber or re-date an
entry without every verifier seeing it.
"""

from oslo_config import cfg

audit_group = cfg.OptGroup(
    'sod_audit',
    title='Audit chain',
    help='How the migration manager binds its audit entries, and how '
         '``sod-nova audit verify`` and sod-nova-api check them.')

audit_opts = [
    cfg.StrOpt(
        'key_file',
        help="""
File holding the audit chain's HMAC-SHA256 key: at least 32 bytes as hex
digits (e.g. ``openssl rand -hex 32 > /etc/sod_nova/audit.key``; mode 0600,
owned by the services' user). Each entry's MAC covers its sequence number,
its time, the previous entry's MAC and the entry itself.

Needed by the writer (``sod-migration-manager``, which refuses to start
without a readable key) and by the verifiers (``sod-nova audit verify``,
sod-nova-api's audit pages and compliance reports, which report every
entry as unverified without it). Keep it out of the database and its
backups: a key next to the chain protects nothing.

Possible values:

* A path to the key file (the same key on every host that runs a writer or
  a verifier).

Related options:

* ``checkpoint_interval``
"""),
    cfg.IntOpt(
        'checkpoint_interval',
        default=100,
        min=1,
        max=1000000,
        help="""
Entries between two signed checkpoints of the head.

Every that many entries the writer stores a checkpoint (the sequence number
and MAC of the head, under the key) and logs it at INFO; a verifier refuses a
chain cut below its newest checkpoint. Ship the log off the host (or keep
the head ``sod-nova audit verify`` prints) and pass it to ``sod-nova audit
verify --expect-head``: that also catches a cut that removed the checkpoints.

Possible values:

* A positive number of entries.
"""),
]


def register_opts(conf):
    conf.register_group(audit_group)
    conf.register_opts(audit_opts, group=audit_group)


def list_opts():
    return {audit_group: audit_opts}
