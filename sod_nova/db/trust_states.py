"""Trust states of a host (``sod_hosts.state``): their one definition.

They belong to the rows, like :mod:`.task_states`: the database layer keeps
and queries them, the trust monitor sets them (:mod:`sod_nova.trust`
re-exports them for its own modules), and the scheduler filter and the
migration manager read them.
"""

TRUSTED = 'trusted'
"""The host's last evidence verified and reported no violation."""
UNTRUSTED = 'untrusted'
"""Evidence failed verification or reported a violation."""
UNREACHABLE = 'unreachable'
"""No fresh verified evidence (none yet, or none lately)."""

STATES = (TRUSTED, UNTRUSTED, UNREACHABLE)
