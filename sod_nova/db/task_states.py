"""States of a relocation task (``relocation_tasks.state``).

They belong to the rows (the database layer keeps and queries them), and
the migration manager moves a task through them (see
:mod:`sod_nova.relocation.manager`).
"""

PENDING = 'pending'
"""Decided; waiting for a free slot or for its retry backoff to pass."""
MIGRATING = 'migrating'
"""Nova was asked to move the VM; the manager watches the migration."""
RESUMING = 'resuming'
"""The VM is where it should be; Nova was asked to undo the no-host action
(unpause, resume, start) and the manager waits until it is running."""
PARKING = 'parking'
"""No compliant server: Nova was asked to apply the no-host action (pause,
suspend, stop); the manager waits until the VM is in that state."""
PARKED = 'parked'
"""No compliant server: the no-host action was applied; waiting for one."""
DONE = 'done'
"""The VM is on a compliant server (moved, resumed in place, or no longer
needs a move)."""
FAILED = 'failed'
"""Retries exhausted and the no-host action could not be applied either."""

OPEN_STATES = (PENDING, MIGRATING, RESUMING, PARKING, PARKED)
"""States of tasks that still own their VM: at most one per VM."""

BUSY_STATES = (PENDING, MIGRATING, RESUMING, PARKING)
"""States in which the manager still has work to do (not yet settled)."""
