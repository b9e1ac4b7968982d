"""The scenarios the benchmarks write are valid scenario files (checked, not run)."""

from benchmarks import paper_scenario
from sod_nova.catalog import Catalog
from sod_nova.cloud import scenario

CATALOG = Catalog.load()


def known(name):
    arch = CATALOG.get(name)
    return arch.name if arch else None


def test_the_large_paper_scenario_loads_as_written():
    text = paper_scenario.large_scenario_text()
    loaded = scenario.load(text, known, 'large.yaml')
    assert (len(loaded.hosts), len(loaded.vms), len(loaded.events)) == (16, 30, 20)
    assert [vm.name for vm in loaded.vms] == ['vm-%02d' % i for i in range(1, 31)]
