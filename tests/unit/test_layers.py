"""The layer order of ARCHITECTURE.md, enforced: no module imports a layer above its own.

policy → catalog → db → compliance → trust / scheduler → relocation → api / cli / cmd / cloud

The shared base modules directly in ``sod_nova/`` (``exception``,
``hostname``, ``yamlfile``...) sit below every layer: they import none.
``conf`` (option declarations) sits beside ``catalog``: every layer from
``db`` up reads options, and ``conf`` may load the catalogue. ``policy`` and
``catalog`` import nothing from OpenStack, so the security model stays
usable (and testable) without it. Imports are read from the source (every
``import`` statement, also those inside functions), so a lazy import does not
hide an upward one.
"""

import ast
import pathlib

import pytest

import sod_nova

ROOT = pathlib.Path(sod_nova.__file__).parent
#: The rank of the shared base modules, ``sod_nova/*.py``.
BASE = '(base module)'
#: Package -> rank; a module may import packages of its rank or lower.
RANK = {BASE: -1, 'policy': 0, 'catalog': 1, 'conf': 1, 'db': 2, 'compliance': 2.5,
        'trust': 3, 'scheduler': 3,
        'relocation': 4, 'api': 5, 'cli': 5, 'cmd': 5, 'cloud': 5, 'osc': 5}
#: The security model: no OpenStack library below it.
PURE = ('policy', 'sod_catalog')
OPENSTACK = ('nova', 'placement', 'oslo_', 'keystone', 'openstack', 'stevedore',
             'cliff', 'osc_lib', 'alembic', 'sqlalchemy')


def imports(path):
    """``(line, imported module name)`` of every import in ``path``."""
    tree = ast.parse(path.read_text(encoding='utf-8'), str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            yield node.lineno, node.module
            for alias in node.names:  # from sod_nova import db
                if node.module == 'sod_nova':
                    yield node.lineno, 'sod_nova.' + alias.name


def layer_of(module):
    parts = module.split('.')
    return parts[1] if len(parts) > 1 and parts[0] == 'sod_nova' else None


def violations(root=ROOT):
    found = []
    for path in sorted(root.rglob('*.py')):
        package = path.relative_to(root).parts[0]
        if package.endswith('.py'):
            package = BASE
        if package not in RANK:
            found.append('%s: package %r has no rank in the layer order' % (path, package))
            continue
        for line, name in imports(path):
            target = layer_of(name)
            if target is None:
                if package in PURE and name.split('.')[0].startswith(OPENSTACK):
                    found.append('%s:%d: %s imports %s (the security model imports '
                                 'nothing from OpenStack)' % (path, line, package, name))
                continue
            if target not in RANK:
                continue  # a top-level module (sod_nova.version): below every layer
            if RANK[target] > RANK[package]:
                found.append('%s:%d: %s imports %s, a layer above it'
                             % (path.relative_to(root.parent), line, package, name))
    return found


def test_no_module_imports_a_layer_above_its_own():
    assert violations() == []


@pytest.mark.parametrize('package,statement,message', [
    ('db', 'from sod_nova.relocation import triggers\n', 'db imports sod_nova.relocation'),
    ('policy', 'import oslo_config\n', 'policy imports oslo_config'),
    ('catalog', 'def f():\n    from sod_nova import trust\n', 'catalog imports sod_nova.trust'),
    ('', 'from sod_nova.policy import parse\n',
     '%s imports sod_nova.policy' % BASE),
])
def test_the_check_catches_an_upward_import(tmp_path, package, statement, message):
    tree = tmp_path / 'sod_nova'
    (tree / package).mkdir(parents=True, exist_ok=True)
    (tree / package / 'bad.py').write_text(statement)
    (found,) = violations(tree)
    assert message in found
