"""Load the catalogue and the security packages from YAML, refusing bad data.

Each file's structure is stated by its JSON Schema (``data/*.schema.json``);
what a schema cannot say (names used twice, what a present-day row must
carry, guest features) is checked here. Every problem names the file, the
row and the field, and a bad file fails the whole load (fail closed).
"""

import importlib.resources

from sod_nova import exception
from sod_nova import yamlfile
from sod_nova.catalog import guest as guest_mod
from sod_nova.catalog import schema
from sod_nova.catalog.architecture import Architecture
from sod_nova.catalog.architecture import Cell
from sod_nova.catalog.architecture import GuestRequirement
from sod_nova.policy import entities
from sod_nova.policy import parse
from sod_nova.policy.request import SecurityRequest

DATA = schema.DATA
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


def _row_where(path, section, index, row):
    """``path: architectures[0] (AEGIS)``; the name where the row has one."""
    where = '%s: %s[%d]' % (path, section, index)
    name = row.get('name') if isinstance(row, dict) else None
    if isinstance(name, str) and name.strip():
        where = '%s (%s)' % (where, name.strip())
    return where


def _fields(fields):
    """``.cells.same_app.C`` from ``['cells', 'same_app', 0]``: a position in
    a ``[C, I]`` pair is named after its property, and in ``[value, why]``
    the ``why`` is the rationale."""
    text = ''
    for i, part in enumerate(fields):
        in_cells = fields[0] == 'cells' and isinstance(part, int)
        if in_cells and i == 2:
            text += '.' + entities.PROPERTY_ORDER[part].name
        elif in_cells and i == 3:
            text += ' rationale' if part else ''
        elif isinstance(part, int):
            text += '[%d]' % part
        else:
            text += '.%s' % part
    return text


def _read(path, section):
    """``[(name, where, row)]`` of the file's ``section``, each row
    structurally valid, no name used twice."""
    try:
        doc = yamlfile.read(path, MAX_FILE_BYTES)
    except yamlfile.YAMLFileError as exc:
        raise CatalogError(str(exc)) from None

    def where(at):    # the document's own fields are the file's
        if len(at) < 2:
            return path
        return _row_where(path, section, at[1], doc[section][at[1]]) + _fields(at[2:])

    error = schema.first_error(section + '.schema.json', doc, where)
    if error:
        raise CatalogError(error)
    rows, seen = [], set()
    for index, row in enumerate(doc[section]):
        name, at = row['name'].strip(), _row_where(path, section, index, row)
        if name.lower() in seen:
            raise CatalogError('%s.name: duplicate of an earlier row' % at)
        seen.add(name.lower())
        rows.append((name, at, row))
    return rows


def _text(value):
    """A text field's value, stripped ('' where absent)."""
    return (value or '').strip()


def _cell(value):
    # PyYAML reads bare yes/no as booleans; accept them as the words.
    if isinstance(value, bool):
        return Cell.YES if value else Cell.NO
    return Cell(value.strip().lower())


def _cells(where, raw, needs_why):
    """``{(entity, property): Cell}`` and the rationales of ``cells``:
    ``{entity: [C, I]}`` or ``{entity: {C: [value, why], I: ...}}``."""
    cells, why = {}, {}
    for entity, prop in entities.CELLS:
        pair = raw[entity.key]
        if isinstance(pair, list):
            value, reason = pair[entities.PROPERTY_ORDER.index(prop)], None
        elif isinstance(pair[prop.name], list):
            value, reason = (pair[prop.name] + [None])[:2]
        else:
            value, reason = pair[prop.name], None
        cells[(entity, prop)] = _cell(value)
        if _text(reason):
            why[(entity, prop)] = _text(reason)
        elif needs_why:
            raise CatalogError(
                '%s.cells.%s.%s: a %s row needs a rationale for every cell'
                % (where, entity.key, prop.name, NEEDS_RATIONALE))
    return cells, why


def _guest(where, raw, cells):
    """``guest: {needs, source, without}``: the launch feature the row's
    protection needs, where that comes from, and the cells (``[entity,
    C|I]`` pairs) it still protects for a guest without it (default none)."""
    if raw is None:
        return None
    field = where + '.guest'
    feature = raw['needs'].strip()
    if feature not in guest_mod.FEATURES:
        raise CatalogError('%s.needs: %s is not a guest feature (one of: %s)'
                           % (field, schema.shown(repr(feature)),
                              ', '.join(sorted(guest_mod.FEATURES))))
    mask = 0
    for i, (key, letter) in enumerate(raw.get('without') or []):
        entity, prop = entities.Entity[key.upper()], entities.Property[letter]
        if cells[(entity, prop)] is not Cell.YES:
            raise CatalogError('%s.without[%d]: the row does not protect %s %s '
                               'at all' % (field, i, letter, entity.label))
        mask |= entities.bit(entity, prop)
    return GuestRequirement(feature, raw['source'].strip(), mask)


def load_architectures(path=None):
    """Read Table III rows from ``path`` (the shipped file when None)."""
    path = path or default_path(ARCHITECTURES_FILE)
    rows = []
    for name, where, row in _read(path, 'architectures'):
        kind = _text(row.get('kind'))
        reference = _text(row.get('reference'))
        cells, why = _cells(where, row['cells'], kind == NEEDS_RATIONALE)
        if kind == NEEDS_RATIONALE and not reference:
            raise CatalogError('%s.reference: a %s row needs a public source' % (
                where, NEEDS_RATIONALE))
        rows.append(Architecture(
            name=name, kind=kind, reference=reference,
            protected_entity=_text(row.get('protected_entity')),
            cells=cells, why=why, guest=_guest(where, row.get('guest'), cells)))
    return rows


def load_packages(path=None):
    """Read named security packages: ``{name: SecurityRequest}``."""
    packages = {}
    for name, where, row in _read(path or default_path(PACKAGES_FILE), 'packages'):
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
    return {name: _text(row.get('description')) for name, _, row in
            _read(path or default_path(PACKAGES_FILE), 'packages')}
