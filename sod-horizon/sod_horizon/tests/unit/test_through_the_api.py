"""The plugin reaches sod-nova only through sod-nova-api.

Every module of the plugin (its tests aside, which run the API itself) is
read for its imports: of sod-nova it may use only the paper's vocabulary
(:mod:`sod_nova.policy`, data and the standard library), never the
database, the configuration, the scheduler or the migration manager, and
it opens no database of its own.
"""

import ast
import os

import sod_horizon

ROOT = os.path.dirname(os.path.abspath(sod_horizon.__file__))
#: Where the plugin's own tests live: they start sod-nova-api in-process.
TEST_DIRS = ('tests', 'test')
ALLOWED = ('sod_nova.policy',)
FORBIDDEN = ('sqlalchemy', 'oslo_db', 'oslo_config', 'alembic')


def plugin_modules():
    for directory, _dirs, files in os.walk(ROOT):
        rel = os.path.relpath(directory, ROOT)
        if rel.split(os.sep)[0] in TEST_DIRS:
            continue
        for name in files:
            if name.endswith('.py'):
                yield os.path.join(directory, name)


def imported(path):
    """The full names a module imports (``from a import b`` is ``a.b``)."""
    with open(path) as f:
        tree = ast.parse(f.read(), path)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            yield from ('%s.%s' % (node.module, alias.name)
                        for alias in node.names)


def violations(path):
    for name in imported(path):
        top = name.split('.')[0]
        if top == 'sod_nova' and not any(
                name == a or name.startswith(a + '.') for a in ALLOWED):
            yield name
        elif top in FORBIDDEN:
            yield name


def test_the_walk_reads_the_plugin():
    names = {os.path.relpath(p, ROOT) for p in plugin_modules()}
    assert os.path.join('api', 'sod.py') in names
    assert os.path.join('content', 'security_on_demand', 'views.py') in names
    assert not any(n.split(os.sep)[0] in TEST_DIRS for n in names)


def test_no_sod_nova_but_its_vocabulary_and_no_database():
    found = ['%s imports %s' % (os.path.relpath(path, ROOT), name)
             for path in plugin_modules() for name in violations(path)]
    assert found == []


def test_the_check_finds_what_it_forbids(tmp_path):
    bad = tmp_path / 'bad.py'
    bad.write_text('from sod_nova.db import api\nfrom sod_nova import conf\n'
                   'from sod_nova.policy import parse\nimport sqlalchemy\n'
                   'import sod_nova.scheduler.host_check\n')
    assert list(violations(str(bad))) == [
        'sod_nova.db.api', 'sod_nova.conf', 'sqlalchemy',
        'sod_nova.scheduler.host_check']
