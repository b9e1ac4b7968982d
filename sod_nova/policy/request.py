"""The Security Request Matrix (paper Table II) as an immutable value.

A :class:`SecurityRequest` is one row of Table II: for each attacker entity,
whether confidentiality and/or integrity must be protected from it. Underneath
it is a 14-bit integer so that the scheduler filter can test a host with a
single ``&`` per host, however many cells are involved.
"""

import dataclasses

from sod_nova.policy import entities
from sod_nova.policy.entities import Entity
from sod_nova.policy.entities import Property


@dataclasses.dataclass(frozen=True, order=True)
class SecurityRequest:
    """One row of the Security Request Matrix; ``mask`` has one bit per cell."""

    mask: int = 0

    def __post_init__(self):
        if not isinstance(self.mask, int) or self.mask & ~entities.ALL_CELLS_MASK:
            raise ValueError('%r is not a request matrix mask' % (self.mask,))

    @classmethod
    def from_options(cls, options, properties=(Property.C, Property.I)):
        """Fill the row as the paper does: every property for every option."""
        mask = 0
        for entity in options:
            entity = entity if isinstance(entity, Entity) else Entity(entity)
            for prop in properties:
                mask |= entities.bit(entity, prop)
        return cls(mask)

    @classmethod
    def from_cells(cls, cells):
        """Build a row from ``(entity, property)`` pairs."""
        mask = 0
        for entity, prop in cells:
            mask |= entities.bit(entity, prop)
        return cls(mask)

    def __or__(self, other):
        """The union of two requests: the more restrictive of both, cell by cell."""
        if not isinstance(other, SecurityRequest):
            return NotImplemented
        return SecurityRequest(self.mask | other.mask)

    def __bool__(self):
        return bool(self.mask)

    def __contains__(self, cell):
        entity, prop = cell
        return bool(self.mask & entities.bit(entity, prop))

    @property
    def cells(self):
        """The requested cells in Table II order."""
        return tuple(c for c in entities.CELLS if c in self)

    @property
    def options(self):
        """The option numbers (entities) that have at least one cell."""
        return tuple(sorted({e.option for e, _ in self.cells}))

    def properties_for(self, entity):
        return tuple(p for p in entities.PROPERTY_ORDER if (entity, p) in self)

    def matrix(self):
        """``{entity label: ['C', 'I']}`` for every chosen entity, Table II order."""
        return {
            e.label: [p.name for p in self.properties_for(e)]
            for e in entities.MATRIX_ORDER if self.properties_for(e)
        }

    def satisfied_by(self, capability_mask):
        """True when every requested cell is among ``capability_mask``'s bits."""
        return not (self.mask & ~capability_mask)

    def unmet(self, capability_mask):
        """The requested cells that ``capability_mask`` does not protect."""
        return SecurityRequest(self.mask & ~capability_mask)

    def describe(self):
        """Human words for the cells, e.g. ``C, I against Other VMs``."""
        if not self.mask:
            return 'no protection'
        parts = []
        for e in entities.MATRIX_ORDER:
            props = self.properties_for(e)
            if props:
                parts.append('%s against %s' % (
                    ', '.join(p.name for p in props), e.label))
        return '; '.join(parts)

    def __str__(self):
        return self.describe()


EMPTY = SecurityRequest(0)
