"""One row of the Server Security Capabilities table (paper Table III)."""

import dataclasses
import enum

from sod_nova.policy import entities


class Cell(enum.Enum):
    """What one architecture does against one (entity, property) cell."""

    YES = 'yes'
    NO = 'no'
    NA = 'n-a'
    REMOVED = 'removed'


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

    def row(self):
        """``{entity label: {'C': 'yes', 'I': 'no'}}`` in Table III order."""
        return {
            e.label: {p.name: self.cells[(e, p)].value
                      for p in entities.PROPERTY_ORDER}
            for e in entities.MATRIX_ORDER
        }
