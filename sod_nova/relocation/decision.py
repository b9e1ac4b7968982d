"""Is a VM compliant where it runs, and if not, why: relocation mode's test.

The same rule as the scheduler filter's, applied after boot: a server
satisfies a request when its trust state is ``trusted`` and the capability
mask of its architecture covers every requested cell. Everything else fails
closed: no trust record, an unknown state, a lost or failed evidence.
A VM without a request is compliant anywhere.
"""

import dataclasses

from sod_nova.db import trust_states
from sod_nova.relocation import triggers
from sod_nova.scheduler import host_check

TRUSTED = trust_states.TRUSTED
UNTRUSTED = trust_states.UNTRUSTED
UNREACHABLE = trust_states.UNREACHABLE


@dataclasses.dataclass(frozen=True)
class Verdict:
    """``compliant`` or the ``trigger`` and ``reason`` to move the VM."""

    compliant: bool
    trigger: str | None = None
    reason: str = ''


COMPLIANT = Verdict(True)


def with_freshness(rows, now):
    """``rows`` with every trusted row whose evidence is no longer valid
    at ``now`` (or has no time) turned ``unreachable``, as the filter sees
    them (:func:`sod_nova.scheduler.host_check.distrust`)."""
    result = []
    for row in rows:
        if row.state == TRUSTED:
            why = host_check.distrust(row, now)
            if why is not None:
                row = dataclasses.replace(row, state=UNREACHABLE, reason=why)
        result.append(row)
    return result


def host_satisfies(row, request):
    """True when host ``row`` is trusted and its mask covers ``request``."""
    return (row is not None and row.state == TRUSTED
            and request.satisfied_by(row.capability_mask or 0))


def assess(request, host, row):
    """The :class:`Verdict` for a VM asking ``request`` on ``host`` (``row``).

    ``row`` is the host's trust row (``state``, ``reason``, ``architecture``,
    ``capability_mask``) or None when the host has none.
    """
    if not request:
        return COMPLIANT
    if row is None:
        return Verdict(False, triggers.UNREACHABLE,
                       '%s has no trust record' % host)
    if row.state == UNREACHABLE:
        return Verdict(False, triggers.UNREACHABLE, '%s is unreachable: %s' % (
            host, row.reason or 'no fresh evidence'))
    if row.state != TRUSTED:
        return Verdict(False, triggers.TRUST_LOSS, '%s is %s: %s' % (
            host, row.state, row.reason or 'evidence failed verification'))
    unmet = request.unmet(row.capability_mask or 0)
    if unmet:
        return Verdict(False, triggers.POLICY_CHANGE, '%s (%s) lacks %s' % (
            host, row.architecture, unmet))
    return COMPLIANT


def compliant_hosts(request, rows, exclude=()):
    """Names of the hosts among ``rows`` that satisfy ``request``, sorted."""
    excluded = set(exclude)
    return sorted(r.host for r in rows
                  if r.host not in excluded and host_satisfies(r, request))


def no_host_reason(catalog, request, rows, exclude=(), failed=()):
    """Why no server can take a VM asking ``request`` (for the audit trail).

    ``failed`` are compliant hosts a migration of this VM already failed on.
    """
    excluded = set(exclude)
    if failed and compliant_hosts(request, rows, excluded):
        return 'no compliant host left: migrations to %s failed' % (
            ', '.join(sorted(failed)))
    trusted = [r for r in rows if r.state == TRUSTED and r.host not in excluded]
    if not trusted:
        return 'no compliant host: no other trusted host'
    why = catalog.explain(request, names={r.architecture for r in trusted})
    return 'no compliant host: %s' % (
        why or 'every compliant host refused the migration')
