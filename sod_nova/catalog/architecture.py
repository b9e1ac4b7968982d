"""One row of the Server Security Capabilities table (paper Table III).

A present-day row may protect only a guest launched for it
(:class:`GuestRequirement`): SEV-SNP a guest launched as an SNP VM, a vTPM row
a guest with a vTPM. :meth:`Architecture.guest_mask` says which cells the row
still protects for a given guest.
"""

import dataclasses
import enum

from sod_nova.catalog import guest as guest_mod
from sod_nova.policy import entities
from sod_nova.policy.request import SecurityRequest


class Cell(enum.Enum):
    """What one architecture does against one (entity, property) cell."""

    YES = 'yes'
    NO = 'no'
    NA = 'n-a'
    REMOVED = 'removed'


@dataclasses.dataclass(frozen=True)
class GuestRequirement:
    """The guest launch feature a row's protection needs.

    ``without_mask``: the cells the row still protects for a guest without
    the feature (fail closed: none unless the vendor's model says so);
    ``source`` says where the requirement comes from (vendor document, Nova
    extra spec).
    """

    feature: str
    source: str
    without_mask: int = 0

    @property
    def how(self):
        return guest_mod.FEATURES[self.feature].how

    def describe(self, arch_name, protected_mask):
        """``AMD-SEV-SNP protects C, I against Hypervisor only for a guest
        launched with ...`` (``protected_mask``: the row's cells)."""
        conditional = SecurityRequest(protected_mask & ~self.without_mask)
        text = '%s protects %s only for %s' % (
            arch_name, conditional, _for_whom(self.feature))
        if self.without_mask:
            text += ' (for any guest: %s)' % SecurityRequest(self.without_mask)
        return text


def _for_whom(feature):
    spec = guest_mod.FEATURES[feature]
    if spec.expressible:
        return 'a guest launched with %s' % spec.how
    return spec.how


@dataclasses.dataclass(frozen=True)
class Architecture:
    """A server architecture type and what it protects.

    ``cells`` maps every ``(Entity, Property)`` to a :class:`Cell`; ``why``
    holds the one-line rationale of a cell where the data file gives one.
    The two masks are computed once so that matching is integer arithmetic.
    """

    name: str
    kind: str
    reference: str
    protected_entity: str
    cells: dict
    why: dict = dataclasses.field(default_factory=dict)
    guest: GuestRequirement | None = None
    yes_mask: int = dataclasses.field(init=False)
    removed_mask: int = dataclasses.field(init=False)

    def __post_init__(self):
        yes = removed = 0
        for (entity, prop), cell in self.cells.items():
            if cell is Cell.YES:
                yes |= entities.bit(entity, prop)
            elif cell is Cell.REMOVED:
                removed |= entities.bit(entity, prop)
        object.__setattr__(self, 'yes_mask', yes)
        object.__setattr__(self, 'removed_mask', removed)

    def capability_mask(self, removed_counts_as_protected=False):
        """The cells this architecture satisfies (only ``yes``; ``removed``
        too when the operator says so; ``n-a`` and ``no`` never)."""
        if removed_counts_as_protected:
            return self.yes_mask | self.removed_mask
        return self.yes_mask

    def guest_mask(self, features):
        """The cells this row may protect for a guest with launch
        ``features`` (see :mod:`sod_nova.catalog.guest`): all of them where
        the row needs no feature or the guest has it, else only those it
        protects for any guest."""
        if self.guest is None or self.guest.feature in features:
            return entities.ALL_CELLS_MASK
        return self.guest.without_mask

    def guest_note(self, removed_counts_as_protected=False):
        """What a guest must be for this row to protect it, or None."""
        if self.guest is None:
            return None
        return self.guest.describe(
            self.name, self.capability_mask(removed_counts_as_protected))

    def row(self):
        """``{entity label: {'C': 'yes', 'I': 'no'}}`` in Table III order."""
        return {
            e.label: {p.name: self.cells[(e, p)].value
                      for p in entities.PROPERTY_ORDER}
            for e in entities.MATRIX_ORDER
        }
