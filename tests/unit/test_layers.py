"""The layer order of ARCHITECTURE.md, enforced: no module imports a layer above its own.

policy → catalog → db → compliance → trust / scheduler → relocation → api / cli / cmd / cloud

The shared base modules directly in ``sod_nova/`` (``exception``,
``hostname``, ``yamlfile``...) sit below every layer: they import none.
``conf`` (option declarations) sits beside ``catalog``: every layer from
``db`` up reads options, and ``conf`` may load the catalogue. ``policy`` and
``catalog`` import nothing from OpenStack, so the security model stays
usable (and testable) without it. The services (and the command line but for
``sod-nova simulate``) import nothing from the embedded cloud, ``cloud``:
it is the simulator, loaded only by what simulates. Imports are read from the
source (every ``import`` statement, also those inside functions), so a lazy
import does not hide an upward one; only ``cli/simulate.py`` may import the
cloud, and only inside its functions (when it runs).
"""

import ast
import pathlib

import pytest

import sod_nova

ROOT = pathlib.Path(sod_nova.__file__).parent
#: The rank of the shared base modules, ``sod_nova/*.py``.
BASE = '(base module)'
#: Package -> rank; a module may import packages of its rank or lower.
RANK = {BASE: -1, 'policy': 0, 'catalog': 1, 'conf': 1, 'db': 2, 'compliance': 2.5, 'metrics': 2.5,
        'trust': 3, 'scheduler': 3,
        'relocation': 4, 'api': 5, 'cli': 5, 'cmd': 5, 'cloud': 5, 'osc': 5}
#: The security model: no OpenStack library below it.
PURE = ('policy', 'catalog')
#: The simulator, which the services and the production command line never load.
SIMULATOR = 'cloud'
#: Packages beside it that import nothing from the simulator (the layer order
#: keeps it out of those below).
NO_SIMULATOR = ('api', 'cli', 'cmd', 'osc')
#: Modules of those packages that may import the simulator, but only when
#: their functions run (a lazy import): the command that runs it, and the
#: console script, which fixes Nova's concurrency mode first for it.
SIMULATOR_WHEN_RUN = (('cli', 'simulate.py'), ('cmd', 'manage.py'))
OPENSTACK = ('nova', 'placement', 'oslo_', 'keystone', 'openstack', 'stevedore',
             'cliff', 'osc_lib', 'alembic', 'sqlalchemy')


def _statements(tree):
    """``(node, lazy)`` for every node of ``tree``; ``lazy``: inside a function
    (runs when called, not when the module is imported)."""
    todo = [(tree, False)]
    while todo:
        node, lazy = todo.pop()
        yield node, lazy
        inner = lazy or isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
        todo.extend((child, inner) for child in ast.iter_child_nodes(node))


def imports(path, with_lazy=False):
    """``(line, imported module name)`` of every import in ``path``
    (``(line, name, lazy)`` with ``with_lazy``)."""
    tree = ast.parse(path.read_text(encoding='utf-8'), str(path))
    found = []
    for node, lazy in _statements(tree):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names = [node.module]
            if node.module == 'sod_nova':  # from sod_nova import db
                names += ['sod_nova.' + alias.name for alias in node.names]
        found += [(node.lineno, name, lazy) for name in names]
    for line, name, lazy in sorted(found):
        yield (line, name, lazy) if with_lazy else (line, name)


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
        where = path.relative_to(root.parent)
        when_run = (package, path.name) in SIMULATOR_WHEN_RUN
        for line, name, lazy in imports(path, with_lazy=True):
            target = layer_of(name)
            if target is None:
                if package in PURE and name.split('.')[0].startswith(OPENSTACK):
                    found.append('%s:%d: %s imports %s (the security model imports '
                                 'nothing from OpenStack)' % (where, line, package, name))
                continue
            if target not in RANK:
                continue  # a top-level module (sod_nova.version): below every layer
            if RANK[target] > RANK[package]:
                found.append('%s:%d: %s imports %s, a layer above it'
                             % (where, line, package, name))
            elif (target == SIMULATOR and package in NO_SIMULATOR
                  and not (when_run and lazy)):
                found.append('%s:%d: %s imports %s (the simulator: %s)' % (
                    where, line, package, name, 'only when the command runs' if when_run
                    else 'only sod-nova simulate loads it'))
    return found


def test_no_module_imports_a_layer_above_its_own():
    assert violations() == []


@pytest.mark.parametrize('module,statement,message', [
    ('db/bad.py', 'from sod_nova.relocation import triggers\n',
     'db imports sod_nova.relocation'),
    ('policy/bad.py', 'import oslo_config\n', 'policy imports oslo_config'),
    ('catalog/bad.py', 'import oslo_config\n', 'catalog imports oslo_config'),
    ('catalog/bad.py', 'def f():\n    from sod_nova import trust\n',
     'catalog imports sod_nova.trust'),
    ('bad.py', 'from sod_nova.policy import parse\n', '%s imports sod_nova.policy' % BASE),
    ('trust/monitor/bad.py', 'def f():\n    from sod_nova.cloud import settle\n',
     'trust imports sod_nova.cloud, a layer above it'),
    ('relocation/bad.py', 'from sod_nova import cloud\n',
     'relocation imports sod_nova.cloud, a layer above it'),
    ('api/handlers/bad.py', 'def f():\n    from sod_nova.cloud import settle\n',
     'api imports sod_nova.cloud (the simulator: only sod-nova simulate loads it)'),
    ('osc/v1/bad.py', 'import sod_nova.cloud.scenario\n', 'osc imports sod_nova.cloud.scenario'),
    ('cmd/bad.py', 'def f():\n    from sod_nova.cloud import _bootstrap\n',
     'cmd imports sod_nova.cloud'),
    ('cmd/manage.py', 'from sod_nova.cloud import _bootstrap\n', 'cmd imports sod_nova.cloud'),
    ('cli/base.py', 'from sod_nova.cloud.scenario import ScenarioError\n',
     'cli imports sod_nova.cloud.scenario'),
    ('cli/simulate.py', 'import sod_nova.cloud.runner\n',
     'cli imports sod_nova.cloud.runner (the simulator: only when the command runs)'),
])
def test_the_check_catches_a_forbidden_import(tmp_path, module, statement, message):
    bad = tmp_path / 'sod_nova' / module
    bad.parent.mkdir(parents=True, exist_ok=True)
    bad.write_text(statement)
    (found,) = violations(tmp_path / 'sod_nova')
    assert message in found


def test_simulate_loads_the_simulator_when_it_runs(tmp_path):
    command = tmp_path / 'sod_nova' / 'cli' / 'simulate.py'
    command.parent.mkdir(parents=True)
    command.write_text('class C:\n    def run(self):\n        from sod_nova.cloud import runner\n')
    assert violations(tmp_path / 'sod_nova') == []
