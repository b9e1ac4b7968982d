"""The per-host test of the filter: pure, in memory, a few operations.

Kept apart from the Nova filter so that the relocation engine can ask the
same question ("is this VM still compliant where it runs?") and so that it
can be tested and timed without Nova.

Freshness is the monitor's verdict, not a rule applied here: the monitor
writes into each host row the time until which its evidence counts
(``valid_until``, its ``[sod_trust] evidence_max_age`` applied once), and this
module only compares that with ``now`` from :func:`sod_nova.db.api.now`.
"""

from sod_nova.db import trust_states


def passes(row, mask, now):
    """The fast form of ``refusal(row, request, now) is None``.

    ``mask`` is the request's bitmask. What the scheduler runs per host: no
    string is built, so refusing a host costs no more than passing it.
    """
    return (not mask or (
        row is not None and row.state == trust_states.TRUSTED
        and row.valid_until is not None
        and row.valid_until >= now
        and not mask & ~row.capability_mask))


def distrust(row, now):
    """Why the host of ``row`` satisfies no request at all; None if usable.

    ``row`` is the host's :class:`~sod_nova.db.api.HostRow` or None. Usable
    means a ``trusted`` row whose evidence is still valid at ``now``.
    """
    if row is None:
        return 'no capability row (never declared or verified)'
    if row.state != trust_states.TRUSTED:
        return '%s: %s' % (row.state, row.reason)
    if row.valid_until is None:
        return 'trusted but no time its evidence is valid until'
    if row.valid_until < now:
        return 'evidence valid until %s has expired (now %s)' % (
            row.valid_until.isoformat(), now.isoformat())
    return None


def refusal(row, request, now):
    """Why the host of ``row`` cannot take ``request``; None when it can.

    A request with no cell passes anywhere; any other request needs a usable
    row (:func:`distrust`) whose capability mask covers every cell.
    """
    if not request.mask:
        return None
    why = distrust(row, now)
    if why is not None:
        return why
    if request.mask & ~row.capability_mask:
        return '%s lacks %s' % (row.architecture,
                                request.unmet(row.capability_mask))
    return None
