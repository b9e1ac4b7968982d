"""Trust Monitor (paper §III-C-2, §V): agents (TMc) and monitor (TMs).

Every compute host runs an agent that reports signed, fresh evidence from its
security architecture's backend; the monitor verifies it and turns it into
the host's trust state and capability row. A host is in one of three states:

* ``trusted``: its last evidence verified and reported no violation;
* ``untrusted``: evidence failed verification or reported a violation;
* ``unreachable``: no verified evidence within ``[sod_trust] evidence_max_age``.

Modules, one job each:

* :mod:`.backends` - evidence sources (stevedore plugins: ``tpm``,
  ``datasafe``, ``hyperwall``, ``simulated``) behind one ABC;
* :mod:`.measurements` - measured boot: SHA-256 extends, golden logs;
* :mod:`.evidence` - the signed evidence format (version 1);
* :mod:`.keys` - Ed25519 host keys and one-time enrollment tokens;
* :mod:`.nonces` - the monitor group's stateless nonces;
* :mod:`.references` - boot reference values per architecture;
* :mod:`.verify` - the verifier: pure checks, no I/O;
* :mod:`.agent` and :mod:`.monitor` - each an ``rpcapi``/``manager`` pair
  over oslo.messaging (:mod:`.rpc`) and a ``service`` with start()/stop();
* :mod:`.fleet` - in-process harness: a monitor and one agent per host.

Protocol in short: the monitor hands out nonces that carry their issue time
and a MAC under its group's key (:mod:`.nonces`); an agent quotes one per
report with a per-boot sequence number and signs the canonical JSON; the
monitor consumes the report by moving the host's sequence on in the database
and acknowledges it with the next nonce. Reports and challenges are casts, so
nothing on the detection path waits for a reply.
"""

from sod_nova.db import trust_states

TRUSTED = trust_states.TRUSTED
UNTRUSTED = trust_states.UNTRUSTED
UNREACHABLE = trust_states.UNREACHABLE

#: Event type of the notification the monitor emits when a host's state changes.
TRUST_CHANGED_EVENT = 'sod.host.trust_changed'
