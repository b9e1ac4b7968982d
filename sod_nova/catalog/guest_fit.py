"""Which rows satisfy a request for the guest a VM is launched as, said plainly.

Every surface (CLI, API, extra-spec validator, status check, Dashboard) says
it with :func:`fit`, so they say it alike; :func:`read_guest` reads a
flavor's and an image's launch keys as Nova 34 validates them, refusing what
Nova refuses. Imports nothing from OpenStack.
"""

import dataclasses

from sod_nova.catalog import guest as guest_mod
from sod_nova.policy import PolicyError
from sod_nova.policy import SecurityRequest

FLAVOR = 'flavor extra spec'
IMAGE = 'image property'

_MODELS = ('amd-sev', 'amd-sev-es', 'amd-sev-snp', 'intel-tdx')
_TPM_MODELS = ('tpm-tis', 'tpm-crb')

#: ``(flavor key, image property, allowed values or None for a boolean)``.
_KEYS = (
    ('hw:mem_encryption', 'hw_mem_encryption', None),
    ('hw:mem_encryption_model', 'hw_mem_encryption_model', _MODELS),
    ('hw:tpm_version', 'hw_tpm_version', guest_mod.TPM_VERSIONS),
    ('hw:tpm_model', 'hw_tpm_model', _TPM_MODELS),
)


class GuestError(PolicyError):
    """A launch key Nova would refuse; ``field`` names where it came from."""


def _value(source, key, value, allowed):
    field = '%s %s' % (source, key)
    if isinstance(value, bool) and allowed is None:
        return value
    if not isinstance(value, str):
        raise GuestError(field, '%r is not a string' % (value,))
    text = value.strip()
    if allowed is None:
        if text.lower() in guest_mod.TRUE_WORDS:
            return True
        if text.lower() in guest_mod.FALSE_WORDS:
            return False
        raise GuestError(field, '%r is not a boolean (true or false)' % value)
    if text not in allowed:
        raise GuestError(field, '%r is not one of: %s' % (
            value, ', '.join(allowed)))
    return text


def read_guest(flavor_extra_specs=None, image_properties=None):
    """The launch features (frozenset) of a VM booted with these.

    Raises :class:`GuestError` for a value Nova 34 would refuse and for a
    flavor and image that disagree (Nova refuses to launch such a VM:
    ``FlavorImageConflict``).
    """
    flavor, image = flavor_extra_specs or {}, image_properties or {}
    for source, mapping in ((FLAVOR, flavor), (IMAGE, image)):
        if not isinstance(mapping, dict):
            raise GuestError(source + 's', 'must be a mapping of keys to '
                             'values, not %s' % type(mapping).__name__)
    read = {}
    encrypted = guest_mod.memory_encrypted(flavor, image)
    for flavor_key, image_key, allowed in _KEYS:
        here = [(FLAVOR, flavor_key, flavor.get(flavor_key)),
                (IMAGE, image_key, image.get(image_key))]
        values = [(source, key, _value(source, key, value, allowed))
                  for source, key, value in here if value is not None]
        # Nova compares the models only for an encrypted guest.
        if (len(values) == 2 and values[0][2] != values[1][2]
                and (encrypted or flavor_key != 'hw:mem_encryption_model')):
            (_, fkey, fvalue), (_, ikey, ivalue) = values
            raise GuestError(
                '%s %s' % (FLAVOR, fkey),
                '%s conflicts with %s %s=%s: Nova refuses to launch such a '
                'VM' % (_show(fvalue), IMAGE, ikey, _show(ivalue)))
        read[flavor_key] = values[0][2] if values else None
    if read.get('hw:tpm_model') == 'tpm-crb' and read['hw:tpm_version'] == '1.2':
        raise GuestError('hw:tpm_model', 'tpm-crb needs TPM version 2.0, '
                         'not 1.2 (Nova refuses it)')
    return guest_mod.features(flavor, image)


def _show(value):
    return str(value).lower() if isinstance(value, bool) else value


#: A row without a guest requirement: what it protects, it protects for any.
ANY_GUEST = 'any guest (it needs no guest launch feature)'
#: How a flavor asks for a feature Nova 34 cannot launch a guest with.
NOT_LAUNCHABLE = 'no flavor or image can ask for it in Nova 34'


def row_guest(catalog, arch):
    """What a guest must be for catalogue row ``arch`` to protect it, as
    ``sod-nova catalog show``, ``GET /catalog`` and ``openstack sod catalog
    show`` say it: ``{'feature', 'sentence', 'launch_with', 'source'}``.

    ``feature``: the guest launch feature the row needs (None: any guest);
    ``sentence``: the plain sentence (:meth:`Architecture.guest_note`);
    ``launch_with``: the extra specs that launch such a guest, or that Nova
    34 cannot launch one; ``source``: where the requirement comes from.
    """
    if arch.guest is None:
        return {'feature': None, 'sentence': ANY_GUEST, 'launch_with': None,
                'source': None}
    feature = guest_mod.FEATURES[arch.guest.feature]
    return {'feature': feature.name,
            'sentence': arch.guest_note(catalog.removed_counts_as_protected),
            'launch_with': feature.how if feature.expressible
            else NOT_LAUNCHABLE,
            'source': arch.guest.source}


def not_asked(flavor_name=None, flavor=True, image=False):
    """``flavor m1.small does not ask for it`` for the given launch sources."""
    flavor_words = ('flavor %s' % flavor_name if flavor_name
                    else 'this flavor') if flavor else None
    image_words = 'this image' if image else None
    if flavor_words and image_words:
        return 'neither %s nor %s asks for it' % (flavor_words, image_words)
    if not (flavor_words or image_words):
        return 'this guest is not launched with it'
    return '%s does not ask for it' % (flavor_words or image_words)


@dataclasses.dataclass(frozen=True)
class Condition:
    """A guest-conditional row that satisfies the request for a guest
    launched for it.

    ``met``: None when no guest was given, False when the given guest is
    not launched for it; ``launchable``: whether Nova 34 can launch such a
    guest at all; ``sentence`` says it plainly (ending with
    :func:`not_asked`'s words when the given guest could ask for it).
    """

    name: str
    feature: str
    launch_with: str
    launchable: bool
    source: str
    met: bool | None
    sentence: str

    def as_dict(self):
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True)
class Fit:
    """The rows that satisfy ``request`` for ``guest`` (None: a guest
    launched for each row), and ``conditions``: the guest-conditional rows
    that satisfy it only for a guest launched for them, and that ``guest``
    is not launched for (every such row when ``guest`` is None)."""

    request: SecurityRequest
    guest: frozenset | None
    satisfied_by: tuple
    conditions: tuple

    @property
    def only_conditional(self):
        """True when a guest is given, no row satisfies the request for it,
        and some row would for a guest launched for that row."""
        return (self.guest is not None and not self.satisfied_by
                and bool(self.conditions))

    def sentences(self):
        """The plain sentence of each condition, in catalogue-name order."""
        return [c.sentence for c in self.conditions]


def fit(catalog, request, guest=None, not_asked_words=None, names=None):
    """The :class:`Fit` of ``request`` in ``catalog`` for launch features
    ``guest`` (None: for a guest launched for each row), among the rows
    ``names`` (None: every row; e.g. the server types of one cloud).

    ``not_asked_words`` ends the sentence of a condition the guest does not
    meet (default ``this flavor does not ask for it``; see :func:`not_asked`).
    """
    satisfied = tuple(catalog.satisfying(request, names, guest))
    conditions = []
    for name in catalog.satisfying(request, names):
        arch = catalog.get(name)
        if arch.guest is None or request.satisfied_by(arch.guest.without_mask):
            continue    # it protects any guest as far as this request goes
        met = None if guest is None else arch.guest.feature in guest
        if met:
            continue    # this guest is launched for it: in satisfied_by
        feature = guest_mod.FEATURES[arch.guest.feature]
        sentence = arch.guest.describe(
            arch.name, request.mask & catalog.capability_mask(name))
        if met is False and feature.expressible:
            sentence += '; %s' % (not_asked_words or not_asked())
        conditions.append(Condition(
            arch.name, feature.name, feature.how, feature.expressible,
            arch.guest.source, met, sentence))
    return Fit(request, guest, satisfied, tuple(conditions))
