"""Trust Monitor (paper §III-C-2, §V): agents (TMc) and monitor (TMs).

Every compute host runs an agent that reports signed, fresh evidence from its
security architecture's backend; the monitor verifies it and turns it into
the host's trust state and capability row. A host is in one of three states:

* ``trusted``: its last evidence verified and reported no violation;
* ``untrusted``: evidence failed verification or reported a violation;
* ``unreachable``: no verified evidence within ``[trust] evidence_max_age``.
"""

TRUSTED = 'trusted'
UNTRUSTED = 'untrusted'
UNREACHABLE = 'unreachable'

#: Event type of the notification the monitor emits when a host's state changes.
TRUST_CHANGED_EVENT = 'sod.host.trust_changed'
