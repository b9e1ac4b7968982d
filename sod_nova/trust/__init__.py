"""Trust Monitor (paper §III-C-2, §V): agents (TMc) and monitor (TMs).

Every compute host runs an agent that reports signed, fresh evidence from its
security architecture's backend; the monitor verifies it and turns it into
the host's trust state (``trusted``, ``untrusted`` or ``unreachable``) and
capability row. See doc/source/contributor/trust-plane.rst.
"""

from sod_nova.db import trust_states

TRUSTED = trust_states.TRUSTED
UNTRUSTED = trust_states.UNTRUSTED
UNREACHABLE = trust_states.UNREACHABLE

#: Event type of the notification the monitor emits when a host's state changes.
TRUST_CHANGED_EVENT = 'sod.host.trust_changed'
