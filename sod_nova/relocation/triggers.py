"""Why a VM is moved: the trigger names of SCENARIOS.md (and the task states, by name).

The compliance rule's verdicts name the first three (:mod:`sod_nova.compliance.rule`):
``trust-loss`` (the VM's server reported evidence that failed verification),
``unreachable`` (no fresh evidence) and ``policy-change`` (its trusted server
does not protect the VM as it asks and is launched, typically because the
customer raised ``sod:*`` metadata).
"""

from sod_nova.compliance.rule import POLICY_CHANGE  # noqa: F401
from sod_nova.compliance.rule import TRUST_LOSS  # noqa: F401
from sod_nova.compliance.rule import UNREACHABLE  # noqa: F401

RECOVERY = 'recovery'
"""A VM parked (paused) for want of a compliant server is moved and resumed."""

MOVING_TARGET = 'moving-target'
"""The VM's ``sod:moving_target`` period elapsed (paper §III-E)."""

ALL = (TRUST_LOSS, UNREACHABLE, POLICY_CHANGE, RECOVERY, MOVING_TARGET)

# Task states are the relocation tasks' rows' own: defined with the rows in
# sod_nova.db.task_states, and named here too for the relocation code.
from sod_nova.db.task_states import BUSY_STATES  # noqa: E402,F401
from sod_nova.db.task_states import DONE  # noqa: E402,F401
from sod_nova.db.task_states import FAILED  # noqa: E402,F401
from sod_nova.db.task_states import MIGRATING  # noqa: E402,F401
from sod_nova.db.task_states import OPEN_STATES  # noqa: E402,F401
from sod_nova.db.task_states import PARKED  # noqa: E402,F401
from sod_nova.db.task_states import PARKING  # noqa: E402,F401
from sod_nova.db.task_states import PENDING  # noqa: E402,F401
from sod_nova.db.task_states import RESUMING  # noqa: E402,F401
