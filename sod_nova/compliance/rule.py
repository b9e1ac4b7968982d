"""The one compliance rule: does this host protect this VM, as launched, now?

:class:`Rule` crosses the VM's effective request with the host's verified
capability row, the guest's launch features and its evidence's validity.
Every component that judges compliance asks it, so none disagrees with
another; everything fails closed.
See doc/source/contributor/scheduler-and-compliance.rst.
"""

import dataclasses

from sod_nova.catalog import guest as guest_mod
from sod_nova.db import trust_states

TRUSTED = trust_states.TRUSTED
UNTRUSTED = trust_states.UNTRUSTED
UNREACHABLE = trust_states.UNREACHABLE

#: Why a VM must move (the trigger names of SCENARIOS.md).
TRUST_LOSS = 'trust-loss'
POLICY_CHANGE = 'policy-change'


@dataclasses.dataclass(frozen=True)
class Verdict:
    """``compliant``, or the ``trigger`` and ``reason`` to move the VM."""

    compliant: bool
    trigger: str | None = None
    reason: str = ''


COMPLIANT = Verdict(True)


def distrust(row, now):
    """Why the host of ``row`` protects nothing at ``now``; None if it may."""
    if row is None:
        return 'no capability row (never declared or verified)'
    state, reason = row.state_at(now)
    if state != TRUSTED:
        return '%s: %s' % (state, reason)
    return None


class Rule:
    """The compliance rule over one catalogue.

    The catalogue says what each architecture needs of a guest; the host row
    says what the monitor verified. Per (architecture, launch features) the
    guest mask is computed once, so :meth:`passes` stays a lookup, a time
    comparison and a bitmask test.
    """

    def __init__(self, catalog):
        self.catalog = catalog
        self._guest_masks = {}

    def _guest_mask(self, architecture, guest):
        masks = self._guest_masks.get(guest)
        if masks is None:
            masks = self._guest_masks[guest] = {}
        mask = masks.get(architecture)
        if mask is None:
            arch = self.catalog.get(architecture)
            # An architecture this catalogue does not know: what it needs of
            # a guest is unknown, so it protects nothing (fail closed).
            mask = masks[architecture] = (
                arch.guest_mask(guest) if arch is not None else 0)
        return mask

    def protection(self, row, guest):
        """The cells host ``row`` protects for a guest with launch features
        ``guest``, trust and freshness aside."""
        return (row.capability_mask or 0) & self._guest_mask(
            row.architecture, guest)

    def passes(self, mask, row, guest, now):
        """The fast form of ``check(...).compliant``: ``mask`` is the
        request's bitmask. Builds no string."""
        return self.test_for(mask, guest, now)(row)

    def test_for(self, mask, guest, now):
        """``test(row)``: :meth:`passes` for one request at one time, for
        the filter's hot path (once per host of every scheduling request):
        a dict lookup, the row's freshness (:meth:`HostRow.fresh`, inlined)
        and a bitmask test."""
        if not mask:
            return lambda row: True
        masks = self._guest_masks.get(guest)
        if masks is None:
            masks = self._guest_masks[guest] = {}
        guest_mask = self._guest_mask

        def test(row):
            if (row is None or row.state != TRUSTED or row.valid_until is None
                    or row.valid_until < now):
                return False
            cells = masks.get(row.architecture)
            if cells is None:
                cells = guest_mask(row.architecture, guest)
            return not mask & ~((row.capability_mask or 0) & cells)
        return test

    def check(self, effective, host, row, now):
        """The :class:`Verdict` for a VM (``effective``) on ``host``.

        ``row`` is the host's :class:`~sod_nova.db.api.HostRow` or None.
        """
        request = effective.request
        if not request:
            return COMPLIANT
        if row is None:
            return Verdict(False, UNREACHABLE, '%s has no trust record' % host)
        state, reason = row.state_at(now)
        if state == UNREACHABLE:
            return Verdict(False, UNREACHABLE, '%s is unreachable: %s' % (
                host, reason or 'no fresh evidence'))
        if state != TRUSTED:
            return Verdict(False, TRUST_LOSS, '%s is %s: %s' % (
                host, state, reason or 'evidence failed verification'))
        unmet = request.unmet(self.protection(row, effective.guest))
        if not unmet:
            return COMPLIANT
        return Verdict(False, POLICY_CHANGE, self.unmet_reason(
            effective, '%s (%s)' % (host, row.architecture), row, unmet))

    def unmet_reason(self, effective, where, row, unmet):
        """Why ``row`` (shown as ``where``) lacks ``unmet`` for the VM."""
        if effective.malformed:
            return ('%s cannot take a VM with a malformed security request '
                    '(%s), held to the strictest request: it lacks %s' % (
                        where, '; '.join(effective.errors), unmet))
        arch = self.catalog.get(row.architecture)
        if arch is None:
            return ('%s: architecture %s is not in this catalogue, so it '
                    'protects nothing' % (where, row.architecture))
        if (arch.guest is not None and arch.guest.feature not in effective.guest
                and effective.request.satisfied_by(row.capability_mask or 0)):
            return '%s: %s; this VM is %s' % (
                where, arch.guest.describe(arch.name, effective.request.mask
                                           & (row.capability_mask or 0)),
                guest_mod.describe(effective.guest))
        return '%s lacks %s' % (where, unmet)

    def made_for(self, row, guest):
        """Whether ``row``'s architecture is the kind of host the guest is
        launched for (its row needs one of the guest's features): where a
        confidential guest can run at all."""
        arch = self.catalog.get(row.architecture)
        return (arch is not None and arch.guest is not None
                and arch.guest.feature in guest)

    def hosts(self, effective, rows, now, exclude=()):
        """Names of the hosts among ``rows`` that protect the VM and can run
        it as launched, sorted: a confidential guest (SEV-SNP, TDX) runs
        only on a host whose row is made for it (Nova launches it nowhere
        else), whatever another row would protect."""
        excluded = set(exclude)
        mask = effective.request.mask
        bound = effective.guest & guest_mod.HOST_BOUND
        return sorted(r.host for r in rows if r.host not in excluded
                      and self.passes(mask, r, effective.guest, now)
                      and (not bound or self.made_for(r, bound)))

    def no_host_reason(self, effective, rows, now, exclude=(), failed=()):
        """Why no server can take the VM (for the audit trail).

        ``failed`` are compliant hosts a migration of this VM already failed on.
        """
        excluded = set(exclude)
        if failed and self.hosts(effective, rows, now, excluded):
            return 'no compliant host left: migrations to %s failed' % (
                ', '.join(sorted(failed)))
        trusted = [r for r in rows if r.host not in excluded
                   and distrust(r, now) is None]
        if not trusted:
            return 'no compliant host: no other trusted host'
        if effective.malformed:
            return ('no compliant host: a malformed security request (%s) is '
                    'held to the strictest request, %s' % (
                        '; '.join(effective.errors), effective.request))
        bound = effective.guest & guest_mod.HOST_BOUND
        if bound and not any(self.made_for(r, bound) for r in trusted):
            return ('no compliant host: no other trusted host can run %s '
                    '(Nova launches it only on hardware of its kind)'
                    % guest_mod.describe(bound))
        why = self.catalog.explain(effective.request,
                                   names={r.architecture for r in trusted},
                                   guest=effective.guest)
        return 'no compliant host: %s' % (
            why or 'every compliant host refused the migration')

    def explain_none(self, effective, rows, now):
        """Why no host among ``rows`` takes the VM, with the hosts that
        would if they were trusted (the filter's one INFO line)."""
        usable, blocked = [], []
        for row in rows:
            if row is None:
                continue
            why = distrust(row, now)
            if why is None:
                usable.append(row)
            elif effective.request.satisfied_by(self.catalog.capability_mask(
                    row.architecture, effective.guest)):
                blocked.append('%s (%s)' % (row.host, why))
        names = sorted({row.architecture for row in usable})
        if effective.malformed:
            why = ('malformed security request (%s), held to the strictest '
                   'request' % '; '.join(effective.errors))
        else:
            why = self.catalog.explain(effective.request, names=names,
                                       guest=effective.guest)
        return (why or 'no trusted host with fresh evidence protects it',
                names, usable, blocked)
