"""``sod-nova host declare|list``: the host capability rows.

Declaring a host records its architecture only; it stays ``unreachable``
until the trust monitor verifies evidence from it. ``list`` also shows, per
host, the reports the monitors rejected without changing its state (forged,
replayed, malformed: ``signature: 3, replay: 1``); reports for names nobody
enrolled are counted on a row of their own, ``(unknown)``.
"""

from cliff import lister
from cliff import show

from sod_nova.cli import base
from sod_nova.cli import db as db_cli
from sod_nova.db import api as db_api
from sod_nova.db import evidence_rejections
from sod_nova.policy import SecurityRequest

COLUMNS = ('Host', 'Architecture', 'State', 'Reason', 'Last Evidence',
           'Capabilities', 'Monitor', 'Rejected Reports')


def _rejected(counts):
    return ', '.join('%s: %d' % (c.code, c.count) for c in counts) or None


def _values(row, counts=()):
    return (row.host, row.architecture, row.state, row.reason,
            row.last_evidence_at.isoformat() if row.last_evidence_at else None,
            SecurityRequest(row.capability_mask).describe(), row.monitor,
            _rejected(counts))


class DeclareHost(db_cli.ExitsOnDatabaseFailure, show.ShowOne):
    """Declare a compute host's architecture (a catalogue name).

    A new host is ``unreachable`` until the trust monitor verifies evidence
    from it; declaring a different architecture clears what was verified.
    """

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('host', help='Nova compute host name')
        parser.add_argument('architecture',
                            help='architecture name from the catalogue '
                                 '(case-insensitive; see "sod-nova catalog list")')
        base.add_catalog_args(parser)
        return parser

    def take_action(self, parsed_args):
        catalog = base.catalog_from_args(self.app, parsed_args)
        arch = catalog.get(parsed_args.architecture)
        if arch is None:
            raise base.InputError('%r is not in the catalogue (known: %s)' % (
                parsed_args.architecture, ', '.join(catalog.names())))
        host = base.host_name(parsed_args.host)
        row = db_cli.run_db(self.app, lambda: db_api.host_declare(
            db_api.Context(), host, arch.name))
        return COLUMNS, _values(row)


class ListHosts(db_cli.ExitsOnDatabaseFailure, lister.Lister):
    """List every host's architecture, trust state and verified capabilities."""

    def take_action(self, parsed_args):
        context = db_api.Context()
        rows = db_cli.run_db(self.app, lambda: db_api.host_get_all(context))
        counts = db_cli.run_db(self.app,
                               lambda: evidence_rejections.by_host(context))
        values = [_values(row, counts.get(row.host, ())) for row in rows]
        for host in sorted(set(counts) - {row.host for row in rows}):
            values.append((host, None, None, 'reports for hosts nobody '
                           'enrolled' if host == evidence_rejections.UNKNOWN
                           else 'no host row', None, None, None,
                           _rejected(counts[host])))
        return COLUMNS, values
