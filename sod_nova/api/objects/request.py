"""A security choice (options, properties, package) as ``sod:`` keys, and
what it gets for the guest a VM is launched as (:func:`check`)."""

import dataclasses

from sod_nova.catalog import guest_fit
from sod_nova.catalog import request_for
from sod_nova.compliance import request as compliance_request
from sod_nova.policy import EMPTY
from sod_nova.policy import PolicyError
from sod_nova.policy import SecurityRequest
from sod_nova.policy import parse


def to_metadata(body):
    """The canonical ``sod:`` metadata of a validated security body.

    ``properties`` is written explicitly whenever options are (C,I when
    not given), so that a stored request never depends on a default.
    """
    values = {}
    if body.get('options'):
        values[parse.PREFIX + parse.OPTIONS] = ','.join(
            str(o) for o in sorted(body['options']))
        values[parse.PREFIX + parse.PROPERTIES] = ','.join(
            p for p in ('C', 'I') if p in body.get('properties', ['C', 'I']))
    elif body.get('properties'):
        values[parse.PREFIX + parse.PROPERTIES] = ','.join(
            p for p in ('C', 'I') if p in body['properties'])
    if body.get('package'):
        values[parse.PREFIX + parse.PACKAGE] = body['package']
    if body.get('moving_target'):
        values[parse.PREFIX + parse.MOVING_TARGET] = str(body['moving_target'])
    if body.get('remediation'):
        values[parse.PREFIX + parse.REMEDIATION] = ','.join(body['remediation'])
    return values


#: Order in which no-longer-wanted keys are deleted: each deletion leaves
#: a request at least as strict as the final one (a missing properties key
#: means C,I; options, package and a moving target only add protection).
DELETE_ORDER = (parse.PROPERTIES, parse.PACKAGE, parse.MOVING_TARGET,
                parse.REMEDIATION, parse.OPTIONS)


def plan(current, wanted):
    """``(set, delete)``: one merge of ``wanted`` first, then deletions of
    the old ``sod:`` keys ``wanted`` drops, in :data:`DELETE_ORDER` (keys
    sod-nova does not know go first: they never protected anything)."""
    old = {k for k in current if isinstance(k, str)
           and k.startswith(parse.PREFIX)}
    drop = old - set(wanted)
    rank = {parse.PREFIX + k: i for i, k in enumerate(DELETE_ORDER)}
    delete = sorted(drop, key=lambda k: (rank.get(k, -1), k))
    values = {k: v for k, v in wanted.items() if current.get(k) != v}
    return values, delete


@dataclasses.dataclass(frozen=True)
class Check:
    """The answer to "which rows satisfy this request for this guest".

    ``request`` is the union of the customer's choice and the ``sod:`` keys
    of the flavor and image (as the VM would get it); ``guest`` the launch
    features (None when no flavor or image was given: the answer is for a
    guest launched for each row); ``fit`` the rows and the guest-conditional
    ones with their sentences (:mod:`sod_nova.catalog.guest_fit`).
    """

    request: SecurityRequest
    guest: frozenset | None
    fit: guest_fit.Fit
    explanation: str | None

    @property
    def satisfied_by(self):
        return list(self.fit.satisfied_by)


def check(catalog, metadata, flavor_extra_specs=None, image_properties=None,
          flavor_name=None):
    """The :class:`Check` of the customer's ``metadata`` (``sod:`` keys) for
    a VM launched with ``flavor_extra_specs`` and ``image_properties``
    (both None: no particular guest).

    Raises :class:`PolicyError` (its :class:`~sod_nova.catalog.guest_fit.
    GuestError` for a launch key Nova would refuse) naming the bad key; the
    ``sod:`` keys of the flavor and image are read by the compliance rule's
    own :func:`~sod_nova.compliance.request.effective`.
    """
    request = request_for(catalog, metadata) if metadata else EMPTY
    guest = None
    given = flavor_extra_specs is not None or image_properties is not None
    if given:
        guest = guest_fit.read_guest(flavor_extra_specs, image_properties)
        launched = compliance_request.effective(
            catalog.packages, flavor_extra_specs, image_properties)
        if launched.errors:
            field, _, reason = '; '.join(launched.errors).partition(': ')
            raise PolicyError(field, reason)
        request |= launched.request
    words = guest_fit.not_asked(flavor_name,
                                flavor=flavor_extra_specs is not None,
                                image=image_properties is not None)
    fit = guest_fit.fit(catalog, request, guest, words)
    if fit.satisfied_by or not request:
        explanation = None
    elif fit.only_conditional:
        explanation = '. '.join(fit.sentences())
    else:
        explanation = catalog.explain(request, guest=guest)
    return Check(request, guest, fit, explanation)
