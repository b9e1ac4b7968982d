"""The per-host test of the filter: pure, in memory, a few operations.

Kept apart from the Nova filter so that the relocation engine can ask the
same question ("is this VM still compliant where it runs?") and so that it
can be tested and timed without Nova.
"""

import datetime

from sod_nova.db import api as db_api


def evidence_cutoff(now, max_age):
    """The oldest evidence time still fresh at ``now`` (aware UTC)."""
    if now.tzinfo is None:
        now = now.replace(tzinfo=datetime.UTC)
    return now - datetime.timedelta(seconds=max_age)


def passes(row, mask, cutoff):
    """The fast form of ``refusal(row, request, cutoff) is None``.

    ``mask`` is the request's bitmask. What the scheduler runs per host: no
    string is built, so refusing a host costs no more than passing it.
    """
    return (not mask or (
        row is not None and row.state == db_api.TRUSTED
        and row.last_evidence_at is not None
        and row.last_evidence_at >= cutoff
        and not mask & ~row.capability_mask))


def distrust(row, cutoff):
    """Why the host of ``row`` satisfies no request at all; None if usable.

    ``row`` is the host's :class:`~sod_nova.db.api.HostRow` or None;
    ``cutoff`` comes from :func:`evidence_cutoff`. Usable means a
    ``trusted`` row with evidence no older than the cutoff.
    """
    if row is None:
        return 'no capability row (never declared or verified)'
    if row.state != db_api.TRUSTED:
        return '%s: %s' % (row.state, row.reason)
    if row.last_evidence_at is None:
        return 'trusted but no time of evidence'
    if row.last_evidence_at < cutoff:
        return 'evidence from %s is older than the cutoff %s' % (
            row.last_evidence_at.isoformat(), cutoff.isoformat())
    return None


def refusal(row, request, cutoff):
    """Why the host of ``row`` cannot take ``request``; None when it can.

    A request with no cell passes anywhere; any other request needs a usable
    row (:func:`distrust`) whose capability mask covers every cell.
    """
    if not request.mask:
        return None
    why = distrust(row, cutoff)
    if why is not None:
        return why
    if request.mask & ~row.capability_mask:
        return '%s lacks %s' % (row.architecture,
                                request.unmet(row.capability_mask))
    return None
