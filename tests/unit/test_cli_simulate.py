"""``sod-nova simulate`` alone loads the simulator; without the ``embedded`` extra,
one line says what to install.

``None`` in ``sys.modules`` is how Python itself marks a module as not
importable, so the child process below sees exactly what a deployment
without the extra sees: ``import nova`` raises ModuleNotFoundError.
"""

import subprocess
import sys

import pytest

PROBE = ('import sys\n'
         'for name in sys.argv[1].split(","):\n'
         '    sys.modules[name] = None\n'
         'from sod_nova.cmd import manage\n'
         'sys.exit(manage.main(["simulate"]))\n')


@pytest.mark.parametrize('absent', ['nova', 'wsgi_intercept', 'testtools,fixtures'])
def test_simulate_without_the_embedded_extra_says_what_to_install(absent):
    result = subprocess.run([sys.executable, '-c', PROBE, absent],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2, result.stderr
    assert result.stdout == ''
    assert result.stderr == (
        "sod-nova: simulate runs the embedded cloud, which is not installed (no module %s): "
        "pip install 'sod-nova[embedded]' (or, in a checkout: pip install -e '.[embedded]')\n"
        % ', '.join(sorted(absent.split(','), key=('nova', 'placement', 'fixtures', 'testtools',
                                                   'wsgi_intercept').index)))


LOADED = ('import sys\n'
          'from sod_nova.cmd import manage\n'
          'try:\n'
          '    status = manage.main(sys.argv[1:])\n'
          'except SystemExit as exc:\n'
          '    status = exc.code\n'
          'print(sorted(name for name in sys.modules if name == "sod_nova.cloud"\n'
          '             or name.startswith("sod_nova.cloud.")), status, file=sys.stderr)\n')


@pytest.mark.parametrize('argv', [['--version'], ['--help'], ['catalog', 'list'],
                                  ['request', 'check', '--options', '1,2']])
def test_commands_other_than_a_simulate_run_never_load_the_simulator(argv):
    result = subprocess.run([sys.executable, '-c', LOADED] + argv,
                            capture_output=True, text=True, timeout=120)
    loaded, status = result.stderr.splitlines()[-1].rsplit(' ', 1)
    assert loaded == '[]', result.stderr
    assert status in ('0', 'None'), result.stderr
