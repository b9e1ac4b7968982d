"""Why a VM is moved: the trigger names of SCENARIOS.md, and task states."""

TRUST_LOSS = 'trust-loss'
"""The VM's server reported evidence that failed verification."""

UNREACHABLE = 'unreachable'
"""The VM's server has no fresh evidence."""

POLICY_CHANGE = 'policy-change'
"""The VM's effective request is no longer satisfied by its (trusted) server,
typically because the customer raised ``sod:*`` metadata."""

RECOVERY = 'recovery'
"""A VM parked (paused) for want of a compliant server is moved and resumed."""

MOVING_TARGET = 'moving-target'
"""The VM's ``sod:moving_target`` period elapsed (paper §III-E)."""

ALL = (TRUST_LOSS, UNREACHABLE, POLICY_CHANGE, RECOVERY, MOVING_TARGET)

# Task states (sod_relocation_tasks.state).
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
