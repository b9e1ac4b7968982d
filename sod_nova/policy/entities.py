"""Attacker entities (paper Table I) and the security properties C and I.

The cells of the Security Request Matrix (Table II) and of the Server
Security Capabilities (Table III) are (entity, property) pairs, each a fixed
bit, so matching is ``request & ~capability == 0``. See doc/source/contributor/api-and-cli.rst.
"""

import enum


class Level(enum.Enum):
    """Where the attacker sits (the column groups of Tables II and III)."""

    VM = 'Same VM'
    SERVER = 'Same Cloud Server'
    CLOUD = 'Cloud Manager'


class Entity(enum.Enum):
    """An attacker entity, valued by the paper's option number (§III-B).

    ``key`` is the spelling used in data files; ``label`` is the column
    heading of Tables II and III.
    """

    OTHER_VMS = 1
    HYPERVISOR = 2
    HW_ATTACKS = 3
    CLOUD_MANAGER = 4
    SAME_OS = 5
    OTHER_APPS = 6
    SAME_APP = 7

    @property
    def option(self):
        return self.value

    @property
    def key(self):
        return self.name.lower()

    @property
    def label(self):
        return _LABELS[self]

    @property
    def level(self):
        return _LEVELS[self]

    @classmethod
    def from_key(cls, key):
        """Return the entity spelled ``key`` (``other_vms``, ``hw-attacks``…)."""
        name = str(key).strip().upper().replace('-', '_').replace(' ', '_')
        try:
            return cls[name]
        except KeyError:
            raise ValueError(
                '%r is not an attacker entity (one of: %s)'
                % (key, ', '.join(e.key for e in cls))) from None


_LABELS = {
    Entity.SAME_APP: 'Same App',
    Entity.OTHER_APPS: 'Other Apps',
    Entity.SAME_OS: 'Same OS',
    Entity.OTHER_VMS: 'Other VMs',
    Entity.HYPERVISOR: 'Hypervisor',
    Entity.HW_ATTACKS: 'HW attacks',
    Entity.CLOUD_MANAGER: 'Cloud Manager',
}

_LEVELS = {
    Entity.SAME_APP: Level.VM,
    Entity.OTHER_APPS: Level.VM,
    Entity.SAME_OS: Level.VM,
    Entity.OTHER_VMS: Level.SERVER,
    Entity.HYPERVISOR: Level.SERVER,
    Entity.HW_ATTACKS: Level.SERVER,
    Entity.CLOUD_MANAGER: Level.CLOUD,
}

#: Column order of Tables II and III (VM level, server level, cloud level).
MATRIX_ORDER = (
    Entity.SAME_APP, Entity.OTHER_APPS, Entity.SAME_OS,
    Entity.OTHER_VMS, Entity.HYPERVISOR, Entity.HW_ATTACKS,
    Entity.CLOUD_MANAGER,
)


class Property(enum.Enum):
    """A security property protected for a chosen entity."""

    C = 'confidentiality'
    I = 'integrity'  # noqa: E741 - the paper's own letter

    @classmethod
    def from_letter(cls, letter):
        try:
            return cls[str(letter).strip().upper()]
        except KeyError:
            raise ValueError('%r is not a property (C, I)' % (letter,)) from None


PROPERTY_ORDER = (Property.C, Property.I)


def bit(entity, prop):
    """The bit of one matrix cell: two bits per entity, C then I."""
    return 1 << ((entity.value - 1) * 2 + (0 if prop is Property.C else 1))


#: Every cell, in Table II order.
CELLS = tuple((e, p) for e in MATRIX_ORDER for p in PROPERTY_ORDER)

ALL_CELLS_MASK = sum(bit(e, p) for e, p in CELLS)
