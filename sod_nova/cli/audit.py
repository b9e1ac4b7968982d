"""``sod-nova audit verify``: check the migration manager's keyed audit chain.

Exit 0 and the head hash when every link holds; exit 1 and the first broken
link when one does not; exit 2 (one line) without a usable ``[sod_audit]
key_file``. See doc/source/contributor/api-and-cli.rst.
"""

import argparse
import re

from cliff import command

from sod_nova.cli import db as db_cli
from sod_nova.db import api as db_api
from sod_nova.db import audit
from sod_nova.db import relocation as relocation_db

_HASH = re.compile('^[0-9a-f]{64}$')


def head_hash(text):
    """``--expect-head``: 64 lowercase hex digits."""
    if not _HASH.match(text):
        raise argparse.ArgumentTypeError(
            'a head hash is 64 lowercase hex digits (as "audit verify" prints)')
    return text


def verify_chain(context, store, expect_head=None, anchor=False):
    """``(first Break or None, entries checked, head hash or None)``.

    With ``anchor``, a chain whose only fault is an unkeyed head (its links,
    checkpoints and ``expect_head`` hold) gets its anchoring entry, which
    counts its legacy links under the key.
    """
    key = store.audit_key()

    def check():
        with db_api.context_manager.reader.using(context):
            rows = store.audit_entries(context)
            checkpoints = store.audit_checkpoints(context)
        return rows, audit.verify_chain(rows, key, checkpoints, expect_head)

    rows, broken = check()
    if anchor and broken is not None and broken.reason == audit.NOT_ANCHORED:
        store.audit_anchor(context)
        rows, broken = check()
    return broken, len(rows), rows[-1].hash if rows else None


class VerifyAudit(db_cli.ExitsOnDatabaseFailure, command.Command):
    """Verify the audit trail of relocation decisions (exit 1 when broken)."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument(
            '--expect-head', type=head_hash, metavar='HASH',
            help='A head hash printed earlier (kept off this host): the chain '
                 'is broken unless it still holds that entry')
        parser.add_argument(
            '--anchor', action='store_true',
            help='After an upgrade from unkeyed links: when they verify, '
                 'append the keyed entry that anchors them')
        return parser

    def take_action(self, parsed_args):
        store = relocation_db.RelocationStore(self.app.conf)
        broken, count, head = db_cli.run_db(
            self.app, lambda: verify_chain(db_api.Context(), store,
                                           parsed_args.expect_head,
                                           parsed_args.anchor))
        if broken is not None:
            self.app.stdout.write('audit chain BROKEN at %s (%d entries '
                                  'stored)\n' % (broken, count))
            return 1
        self.app.stdout.write('audit chain intact: %d entries, head %s\n' % (
            count, head or audit.GENESIS))
        return 0
