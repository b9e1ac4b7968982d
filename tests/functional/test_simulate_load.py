"""The paper scenario stays correct on a loaded machine.

An unrelated process keeps one core busy for the whole run (on a 2-core
machine, half of it): the embedded cloud must still keep every invariant of
the contract, and no genuine host may ever be judged untrusted or
unreachable, not even for a moment (every trust change the monitor
announces is checked, not only the state after each step). The waits the
run makes are derived from the evidence timings, so being slower is not a
failure; a wrong verdict is.
"""

import os
import subprocess
import sys

import pytest

from sod_nova.catalog import Catalog
from sod_nova.cloud import invariants
from sod_nova.cloud import runner
from sod_nova.cloud import scenario as scenario_mod

CATALOG = Catalog.load()
HOG = 'while True:\n    pass\n'


def known(name):
    arch = CATALOG.get(name)
    return arch.name if arch else None


@pytest.fixture
def cpu_hog():
    """A process spinning on one core until the test ends."""
    hog = subprocess.Popen([sys.executable, '-c', HOG])
    try:
        yield hog
    finally:
        hog.kill()
        hog.wait()


def _cpu_seconds(pid):
    with open('/proc/%d/stat' % pid) as f:
        fields = f.read().rsplit(')', 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf('SC_CLK_TCK')


def test_paper_scenario_under_a_cpu_hog_keeps_every_invariant(cpu_hog):
    result = runner.ScenarioRunner(scenario_mod.load_file(None, known)).run()
    # The hog really ran alongside (and is still running).
    assert cpu_hog.poll() is None
    assert _cpu_seconds(cpu_hog.pid) > 1.0
    assert invariants.check_invariants(result) == []
    assert all(step['settled'] for step in result['steps'])
    # No false verdict, spelled out: the only hosts ever announced untrusted
    # or unreachable are those an attack or a silence targeted (a forged or
    # replayed report changes no state).
    bad = {(c['host'], c['to']) for step in result['steps']
           for c in step['trust_changes'] if c['to'] in invariants.BAD_STATES}
    assert bad == {('hyperwall-1', 'untrusted'), ('hyperwall-2', 'untrusted'),
                   ('datasafe-1', 'unreachable')}
    # Nor was a genuine report refused: the only reports rejected are the
    # forged and replayed ones of the steps that sent them.
    assert result['setup_rejections'] == {}
    assert [i for i, step in enumerate(result['steps']) if step['rejections']
            and next(iter(step['event'])) not in ('forge', 'replay')] == []
    # The TPM hosts quote with real TPMs (a swtpm each), as in CI the test
    # suite installs swtpm and tpm2-pytss.
    assert result['tpm_hosts'] == 'swtpm'
    # Every host was attested at start-up (a swtpm host after its AK's
    # activation), and none lost it before the first event.
    assert {c['host'] for c in result['setup_trust_changes']
            if c['to'] == 'trusted'} == set(result['hosts'])
    # The story ends as the paper's does: everyone back, compliant.
    assert all(h['state'] == 'trusted' for h in result['hosts'].values())
    assert all(vm['status'] == 'ACTIVE' and vm['compliant']
               for vm in result['vms'].values())
