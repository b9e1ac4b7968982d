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
PARKED = 'parked'
"""No compliant server: the no-host action was applied; waiting for one."""
DONE = 'done'
"""The VM is on a compliant server (moved, resumed in place, or no longer
needs a move)."""
FAILED = 'failed'
"""Retries exhausted and the no-host action could not be applied either."""

OPEN_STATES = (PENDING, MIGRATING, PARKED)
"""States of tasks that still own their VM: at most one per VM."""
