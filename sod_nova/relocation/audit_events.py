"""Names of the migration manager's audit entries (``entry['event']``).

The manager and its mover write them into the audit chain
(:mod:`sod_nova.db.audit`); the API's compliance history, the scenario
runner and its timeline read them back. One definition here, so a reader
never waits for a name no writer uses.
"""

from sod_nova.db import audit

DECIDED = 'decided'
"""A VM must move (or no longer must): the trigger and the reason."""
MIGRATE_CALLED = 'migrate-called'
"""Nova was asked to migrate the VM (live or cold) to a chosen host."""
CALL_LOST = 'call-lost'
"""No sign that Nova started the migration asked for, and the VM is idle:
asked again."""
ABORT_REQUESTED = 'abort-requested'
"""A live migration in flight past ``migration_timeout`` is being aborted."""
RETRY = 'retry'
"""A migration attempt failed; the next one waits out a backoff."""
PARKED = 'parked'
"""No compliant host: the no-host action (pause, suspend, stop) applied."""
RESUMED_TO_MOVE = 'resumed-to-move'
"""A VM suspended by its no-host action was resumed so that it can be
moved (a suspended VM cannot be migrated)."""
MOVED = 'moved'
"""The VM arrived on its destination."""
RESUMED = 'resumed'
"""The VM runs again, and its task is done (after a move or in place)."""
RECOVERED = 'recovered'
"""A parked VM's own host satisfies it again: the no-host action is being
undone in place."""
GONE = 'gone'
"""The VM was deleted while its task was open."""
SUPERSEDED = 'superseded'
"""The VM left its source host by other means; its task is closed and the
VM looked at again."""
NOT_NEEDED = 'not-needed'
"""The VM's host satisfies it again before it was moved."""
ANCHORED = audit.ANCHORED
"""The first keyed entry after legacy (unkeyed) ones, written by the
manager's writer before its first keyed entry, or by ``sod-nova audit verify
--anchor``, once the legacy chain verified: its MAC covers the legacy head
(``legacy_head``) and how many legacy entries there are
(``legacy_entries``)."""
