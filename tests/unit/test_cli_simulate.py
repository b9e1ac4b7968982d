"""``sod-nova simulate`` without the ``embedded`` extra: one line saying what to install.

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
