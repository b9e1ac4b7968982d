"""``sod-nova audit verify``: check the migration manager's hash chain.

Exit 0 and the head hash when every link holds; exit 1 and the first broken
link when one does not. Keep the printed head hash elsewhere (a ticket, a
shipped log): the chain alone cannot show that its newest entries were cut.
"""

from cliff import command

from sod_nova.cli import db as db_cli
from sod_nova.db import audit
from sod_nova.db import relocation as relocation_db


def verify_chain(store):
    """``(first Break or None, entries checked, head hash or None)``."""
    rows = store.audit_entries()
    return audit.verify(rows), len(rows), rows[-1].hash if rows else None


class VerifyAudit(db_cli.ExitsOnDatabaseFailure, command.Command):
    """Verify the audit trail of relocation decisions (exit 1 when broken)."""

    def take_action(self, parsed_args):
        store = relocation_db.RelocationStore(self.app.conf)
        broken, count, head = db_cli.run_db(
            self.app, lambda: verify_chain(store))
        if broken is not None:
            self.app.stdout.write('audit chain BROKEN at %s (%d entries '
                                  'stored)\n' % (broken, count))
            return 1
        self.app.stdout.write('audit chain intact: %d entries, head %s\n' % (
            count, head or audit.GENESIS))
        return 0
