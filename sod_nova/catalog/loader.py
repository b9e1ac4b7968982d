"""Load the catalogue and the security packages from YAML, refusing bad data.

Data files are read by operators' tools and edited by hand, so every problem
is reported with the file, the row and the field, and nothing half-loaded is
ever used: a malformed file fails the whole load (fail closed).
"""

import importlib.resources

from sod_nova import exception
from sod_nova import yamlfile
from sod_nova.catalog import guest as guest_mod
from sod_nova.catalog.architecture import Architecture
from sod_nova.catalog.architecture import Cell
from sod_nova.catalog.architecture import GuestRequirement
from sod_nova.policy import entities
from sod_nova.policy import parse
from sod_nova.policy.entities import Entity
from sod_nova.policy.request import SecurityRequest

DATA = 'sod_nova.catalog.data'
ARCHITECTURES_FILE = 'architectures.yaml'
PACKAGES_FILE = 'packages.yaml'
#: Rows of this kind must carry a rationale for every cell.
NEEDS_RATIONALE = 'present-day'
#: Largest catalogue or packages file read (the shipped one is ~16 KB).
MAX_FILE_BYTES = 1024 * 1024


class CatalogError(exception.SodNovaException, ValueError):
    """A catalogue or package file that cannot be used."""


def default_path(filename):
    """Path of a data file shipped inside the package."""
    return str(importlib.resources.files(DATA).joinpath(filename))


def _read(path, section):
    try:
        doc = yamlfile.read(path, MAX_FILE_BYTES)
    except yamlfile.YAMLFileError as exc:
        raise CatalogError(str(exc)) from None
    if not isinstance(doc, dict) or not isinstance(doc.get(section), list):
        raise CatalogError('%s: needs a top-level list %r' % (path, section))
    if doc.get('version', 1) != 1:
        raise CatalogError('%s: version %s is not supported (1)' % (
            path, _shown(repr(doc.get('version')))))
    return doc[section]


def _text(where, value):
    """``value`` stripped if it is a string ('' where absent);
    anything else is refused before it is ever turned into text."""
    if value is None:
        return ''
    if isinstance(value, str):
        return value.strip()
    raise CatalogError('%s: must be a string, not %s' % (
        where, type(value).__name__))


def _shown(text):
    """``text`` for an error line, cut short."""
    return text if len(text) <= 40 else text[:40] + '...'


def _plain(value):
    """True for None, a scalar or a list of scalars: what a request value
    may be before :mod:`sod_nova.policy.parse` turns it into text."""
    scalar = (str, int)
    return value is None or isinstance(value, scalar) or (
        isinstance(value, list) and all(isinstance(v, scalar) for v in value))


def _cell_value(raw):
    # PyYAML reads bare yes/no as booleans; accept them as the words.
    if raw is True:
        return Cell.YES
    if raw is False:
        return Cell.NO
    try:
        return Cell(raw.strip().lower() if isinstance(raw, str) else None)
    except ValueError:
        raise ValueError('%s is not one of yes, no, n-a, removed'
                         % _shown(repr(raw))) from None


def _parse_cells(where, raw_cells, needs_why):
    """``{entity: [C, I]}`` or ``{entity: {C: [value, why], I: ...}}``."""
    if not isinstance(raw_cells, dict):
        raise CatalogError('%s.cells: must be a mapping of entities' % where)
    unknown = set(raw_cells) - {e.key for e in Entity}
    if unknown:
        raise CatalogError('%s.cells.%s: not an attacker entity (one of: %s)' % (
            where, _shown(str(sorted(unknown, key=str)[0])),
            ', '.join(e.key for e in entities.MATRIX_ORDER)))
    cells, why = {}, {}
    for entity in entities.MATRIX_ORDER:
        field = '%s.cells.%s' % (where, entity.key)
        raw = raw_cells.get(entity.key)
        if raw is None:
            raise CatalogError('%s: missing' % field)
        if isinstance(raw, list):
            if len(raw) != 2:
                raise CatalogError('%s: must be [C, I]' % field)
            pairs = dict(zip(entities.PROPERTY_ORDER, ([v] for v in raw), strict=True))
        elif isinstance(raw, dict) and set(raw) == {'C', 'I'}:
            pairs = {p: raw[p.name] if isinstance(raw[p.name], list) else [raw[p.name]]
                     for p in entities.PROPERTY_ORDER}
        else:
            raise CatalogError('%s: must be [C, I] or {C: ..., I: ...}' % field)
        for prop, value in pairs.items():
            cell_field = '%s.%s' % (field, prop.name)
            if not 1 <= len(value) <= 2:
                raise CatalogError('%s: must be a value or [value, why]' % cell_field)
            try:
                cells[(entity, prop)] = _cell_value(value[0])
            except ValueError as exc:
                raise CatalogError('%s: %s' % (cell_field, exc)) from None
            rationale = _text(cell_field + ' rationale',
                              value[1] if len(value) == 2 else None)
            if rationale:
                why[(entity, prop)] = rationale
            elif needs_why:
                raise CatalogError('%s: a %s row needs a rationale for every cell' % (
                    cell_field, NEEDS_RATIONALE))
    return cells, why


def _parse_guest(where, raw, cells):
    """``guest: {needs, source, without}``: the launch feature the row's
    protection needs, where that comes from, and the cells (``[entity,
    C|I]`` pairs) it still protects for a guest without it (default none)."""
    if raw is None:
        return None
    field = where + '.guest'
    if not isinstance(raw, dict):
        raise CatalogError('%s: must be a mapping {needs, source, without}'
                           % field)
    unknown = set(raw) - {'needs', 'source', 'without'}
    if unknown:
        raise CatalogError('%s.%s: unknown key (known: needs, source, '
                           'without)' % (field, _shown(str(sorted(unknown, key=str)[0]))))
    feature = _text(field + '.needs', raw.get('needs'))
    if feature not in guest_mod.FEATURES:
        raise CatalogError('%s.needs: %s is not a guest feature (one of: %s)'
                           % (field, _shown(repr(feature)), ', '.join(sorted(
                               guest_mod.FEATURES))))
    source = _text(field + '.source', raw.get('source'))
    if not source:
        raise CatalogError('%s.source: missing (the vendor document or Nova '
                           'extra spec the requirement comes from)' % field)
    without = raw.get('without') or []
    if not isinstance(without, list):
        raise CatalogError('%s.without: must be a list of [entity, C|I]'
                           % field)
    mask = 0
    by_key = {e.key: e for e in Entity}
    for i, pair in enumerate(without):
        cell_field = '%s.without[%d]' % (field, i)
        if (not isinstance(pair, list) or len(pair) != 2
                or not all(isinstance(part, str) for part in pair)
                or pair[0] not in by_key or pair[1] not in ('C', 'I')):
            raise CatalogError('%s: must be [entity, C|I]' % cell_field)
        entity = by_key[pair[0]]
        prop = next(p for p in entities.PROPERTY_ORDER if p.name == pair[1])
        if cells[(entity, prop)] is not Cell.YES:
            raise CatalogError('%s: the row does not protect %s %s at all'
                               % (cell_field, pair[1], entity.label))
        mask |= entities.bit(entity, prop)
    return GuestRequirement(feature, source, mask)


def _row_name(path, section, index, row, seen):
    where = '%s: %s[%d]' % (path, section, index)
    if not isinstance(row, dict):
        raise CatalogError('%s: must be a mapping' % where)
    name = _text(where + '.name', row.get('name'))
    if not name:
        raise CatalogError('%s.name: missing' % where)
    where = '%s (%s)' % (where, name)
    if name.lower() in seen:
        raise CatalogError('%s.name: duplicate of an earlier row' % where)
    seen.add(name.lower())
    return name, where


def load_architectures(path=None):
    """Read Table III rows from ``path`` (the shipped file when None)."""
    path = path or default_path(ARCHITECTURES_FILE)
    rows, seen = [], set()
    for index, row in enumerate(_read(path, 'architectures')):
        name, where = _row_name(path, 'architectures', index, row, seen)
        kind = _text(where + '.kind', row.get('kind'))
        reference = _text(where + '.reference', row.get('reference'))
        cells, why = _parse_cells(where, row.get('cells'), kind == NEEDS_RATIONALE)
        if kind == NEEDS_RATIONALE and not reference:
            raise CatalogError('%s.reference: a %s row needs a public source' % (
                where, NEEDS_RATIONALE))
        rows.append(Architecture(
            name=name, kind=kind, reference=reference,
            protected_entity=_text(where + '.protected_entity',
                                   row.get('protected_entity')),
            cells=cells, why=why,
            guest=_parse_guest(where, row.get('guest'), cells)))
    return rows


def load_packages(path=None):
    """Read named security packages: ``{name: SecurityRequest}``."""
    path = path or default_path(PACKAGES_FILE)
    packages, seen = {}, set()
    for index, row in enumerate(_read(path, 'packages')):
        name, where = _row_name(path, 'packages', index, row, seen)
        for key in ('options', 'properties'):
            if not _plain(row.get(key)):
                raise CatalogError('%s.%s: must be a value or a list of values'
                                   % (where, key))
        try:
            options = parse.parse_options(row.get('options'), where + '.options')
            props = parse.parse_properties(
                row.get('properties', 'C,I'), where + '.properties')
        except parse.PolicyError as exc:
            raise CatalogError(str(exc)) from None
        packages[name] = SecurityRequest.from_options(options, props)
    return packages


def load_package_descriptions(path=None):
    """``{name: description}`` of the packages file, for people choosing one
    (the Dashboard's Launch Instance step); '' where a row has none."""
    path = path or default_path(PACKAGES_FILE)
    seen = set()
    descriptions = {}
    for i, row in enumerate(_read(path, 'packages')):
        name, where = _row_name(path, 'packages', i, row, seen)
        descriptions[name] = _text(where + '.description',
                                   row.get('description'))
    return descriptions

