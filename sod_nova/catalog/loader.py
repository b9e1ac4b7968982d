"""Load the catalogue and the security packages from YAML, refusing bad data.

Data files are read by operators' tools and edited by hand, so every problem
is reported with the file, the row and the field, and nothing half-loaded is
ever used: a malformed file fails the whole load (fail closed).
"""

import importlib.resources

import yaml

from sod_nova import exception
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


class CatalogError(exception.SodNovaException, ValueError):
    """A catalogue or package file that cannot be used."""


def default_path(filename):
    """Path of a data file shipped inside the package."""
    return str(importlib.resources.files(DATA).joinpath(filename))


def _read(path, section):
    try:
        with open(path, encoding='utf-8') as f:
            doc = yaml.safe_load(f)
    except OSError as exc:
        raise CatalogError('%s: cannot read: %s' % (path, exc.strerror)) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, 'problem_mark', None)
        where = ' line %d' % (mark.line + 1) if mark else ''
        raise CatalogError('%s:%s not valid YAML: %s' % (
            path, where, getattr(exc, 'problem', None) or exc)) from None
    if not isinstance(doc, dict) or not isinstance(doc.get(section), list):
        raise CatalogError('%s: needs a top-level list %r' % (path, section))
    if doc.get('version', 1) != 1:
        raise CatalogError('%s: version %r is not supported (1)' % (
            path, doc.get('version')))
    return doc[section]


def _cell_value(raw):
    # PyYAML reads bare yes/no as booleans; accept them as the words.
    if raw is True:
        return Cell.YES
    if raw is False:
        return Cell.NO
    try:
        return Cell(str(raw).strip().lower())
    except ValueError:
        raise ValueError('%r is not one of yes, no, n-a, removed' % (raw,)) from None


def _parse_cells(where, raw_cells, needs_why):
    """``{entity: [C, I]}`` or ``{entity: {C: [value, why], I: ...}}``."""
    if not isinstance(raw_cells, dict):
        raise CatalogError('%s.cells: must be a mapping of entities' % where)
    unknown = set(raw_cells) - {e.key for e in Entity}
    if unknown:
        raise CatalogError('%s.cells.%s: not an attacker entity (one of: %s)' % (
            where, sorted(unknown)[0], ', '.join(e.key for e in entities.MATRIX_ORDER)))
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
            if len(value) == 2 and str(value[1]).strip():
                why[(entity, prop)] = str(value[1]).strip()
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
                           'without)' % (field, sorted(unknown)[0]))
    feature = str(raw.get('needs') or '').strip()
    if feature not in guest_mod.FEATURES:
        raise CatalogError('%s.needs: %r is not a guest feature (one of: %s)'
                           % (field, feature, ', '.join(sorted(
                               guest_mod.FEATURES))))
    source = str(raw.get('source') or '').strip()
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
    name = str(row.get('name') or '').strip()
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
        kind = str(row.get('kind', '')).strip()
        cells, why = _parse_cells(where, row.get('cells'), kind == NEEDS_RATIONALE)
        if kind == NEEDS_RATIONALE and not str(row.get('reference') or '').strip():
            raise CatalogError('%s.reference: a %s row needs a public source' % (
                where, NEEDS_RATIONALE))
        rows.append(Architecture(
            name=name, kind=kind, reference=str(row.get('reference') or ''),
            protected_entity=str(row.get('protected_entity') or ''),
            cells=cells, why=why,
            guest=_parse_guest(where, row.get('guest'), cells)))
    return rows


def load_packages(path=None):
    """Read named security packages: ``{name: SecurityRequest}``."""
    path = path or default_path(PACKAGES_FILE)
    packages, seen = {}, set()
    for index, row in enumerate(_read(path, 'packages')):
        name, where = _row_name(path, 'packages', index, row, seen)
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
    return {_row_name(path, 'packages', i, row, seen)[0]:
            str(row.get('description') or '').strip()
            for i, row in enumerate(_read(path, 'packages'))}

