"""Benchmark: what SecurityOnDemandFilter costs nova-scheduler per host.

Value: microseconds per host for one scheduling request through Nova's own
filter handler (``HostFilterHandler().get_filtered_objects([sod_filter], hosts,
spec)``) over 10,000 real ``HostState`` objects, with SecurityOnDemandFilter
as the only filter. Baseline: Nova's ``ComputeCapabilitiesFilter`` through the
same handler, on the same HostState objects, in the same process, with one
extra spec, ``capabilities:hypervisor_type = s== QEMU``: the cheapest work
that filter does per host (an attribute of the HostState, one comparison),
so the goal does not lean on an expensive baseline. The detail also gives it
with ``capabilities:cpu_info:features = <all-in> sev``, the way an operator
asks Nova alone for a confidential-computing host (it parses each host's
libvirt ``cpu_info`` JSON, about 1 KB, and looks for the flag).

Every host passes both filters, so both do their full work on every host.
What one SoD request includes:

* the per-request policy resolution: the four sources (flavor extra specs
  ``sod:options=1``, the image property ``image_sod:options=2,3`` in the
  system metadata, the instance metadata ``sod:package=medical-records``
  and the hints ``sod_options=5,6,7``, ``sod_properties=C,I``), each parsed
  and unioned, the package looked up in the catalogue: options 1, 2, 3, 5, 6,
  7 with C and I, 12 cells. That is the most demanding valid request: the
  14-cell matrix's other two cells are option 4 (Cloud Manager), which the
  parser refuses everywhere (flavor, image, metadata, hints, packages);
* the instance's metadata and system metadata come from the filter's seam
  ``instance_sources.metadata_of`` (the one the unit tests replace): an
  in-memory function here, where Nova would read the BuildRequest from its
  API database (one read per request, not per host; not timed);
* the host rows: 10,000 rows written with ``host_set_trust`` into a real
  SQLite sod-nova database (``db sync``), all ``trusted`` with fresh evidence,
  of an operator-catalogue architecture that protects every cell (no shipped
  row meets all 12). The value is with the rows in the filter's cache (as for
  every request within ``[sod_filter] host_cache_seconds`` of the last read); the
  detail gives the cost with a re-read on every request as well;
* per host: the row lookup, the trusted/freshness test (the row's
  ``valid_until`` against the request's one reading of the clock) and the
  bitmask test, plus the handler's own
  per-host work (it lists every remaining host after each filter).

Each figure is the best of REPEATS timed requests (timeit's convention: the
least disturbed run) after WARMUP untimed ones, the filters interleaved in
each round so that all see the same machine state; the medians are in the
detail, and so is the handler's own share (a filter that does nothing).
"""

import datetime
import gc
import json
import os
import statistics
import tempfile
import time

HOSTS = 10_000
WARMUP = 3
REPEATS = 21
GOAL_RATIO = 0.2
ARCH = 'Benchmark-AllCells'
INSTANCE = '00000000-0000-4000-8000-00000000b0b0'

FLAVOR_SOD = {'sod:options': '1', 'hw:cpu_policy': 'dedicated'}
SYSTEM_METADATA = {'image_sod:options': '2,3', 'image_hw_disk_bus': 'virtio',
                   'image_os_distro': 'ubuntu', 'owner_user_name': 'alice'}
METADATA = {'sod:package': 'medical-records', 'department': 'radiology'}
HINTS = {'sod_options': ['5', '6', '7'], 'sod_properties': ['C', 'I'],
         'group': ['anti-affinity']}
CAPABILITY_SPEC = {'capabilities:hypervisor_type': 's== QEMU'}
CPU_INFO_SPEC = {'capabilities:cpu_info:features': '<all-in> sev'}

#: A libvirt driver's cpu_info for an AMD EPYC host (what ComputeNode carries).
CPU_INFO = json.dumps({
    'arch': 'x86_64', 'model': 'EPYC-Milan', 'vendor': 'AMD',
    'topology': {'cells': 2, 'sockets': 2, 'cores': 32, 'threads': 2},
    'maxphysaddr': {'mode': 'passthrough', 'bits': 48},
    'features': sorted([
        'fpu', 'vme', 'de', 'pse', 'tsc', 'msr', 'pae', 'mce', 'cx8', 'apic',
        'sep', 'mtrr', 'pge', 'mca', 'cmov', 'pat', 'pse36', 'clflush', 'mmx',
        'fxsr', 'sse', 'sse2', 'ht', 'syscall', 'nx', 'mmxext', 'fxsr_opt',
        'pdpe1gb', 'rdtscp', 'lm', 'pni', 'pclmuldq', 'ssse3', 'fma', 'cx16',
        'pcid', 'sse4.1', 'sse4.2', 'x2apic', 'movbe', 'popcnt', 'aes',
        'xsave', 'avx', 'f16c', 'rdrand', 'lahf_lm', 'cmp_legacy', 'svm',
        'extapic', 'cr8_legacy', 'abm', 'sse4a', 'misalignsse',
        '3dnowprefetch', 'osvw', 'topoext', 'perfctr_core', 'fsgsbase', 'bmi1',
        'avx2', 'smep', 'bmi2', 'erms', 'invpcid', 'rdseed', 'adx', 'smap',
        'clflushopt', 'clwb', 'sha_ni', 'xsaveopt', 'xsavec', 'xgetbv1',
        'xsaves', 'clzero', 'wbnoinvd', 'umip', 'pku', 'vaes', 'vpclmulqdq',
        'rdpid', 'fsrm', 'npt', 'nrip_save', 'sev', 'sev-es', 'sev-snp',
        'ibpb', 'ibrs', 'amd-ssbd', 'virt-ssbd', 'stibp']),
})


def _architectures_file(directory):
    """The shipped Table III rows plus one that protects every cell."""
    from sod_nova.catalog import loader
    with open(loader.default_path(loader.ARCHITECTURES_FILE)) as f:
        text = f.read()
    text += ('\n  - name: %s\n    kind: benchmark\n    protected_entity: VM\n'
             '    cells:\n' % ARCH)
    for key in ('same_app', 'other_apps', 'same_os', 'other_vms',
                'hypervisor', 'hw_attacks', 'cloud_manager'):
        text += '      %s: [yes, yes]\n' % key
    path = os.path.join(directory, 'architectures.yaml')
    with open(path, 'w') as f:
        f.write(text)
    return path


def _host_states(names):
    from nova import objects
    from nova.scheduler import host_manager
    now = datetime.datetime.now(datetime.UTC)
    states = []
    for i, name in enumerate(names):
        compute = objects.ComputeNode(
            id=i + 1, uuid='00000000-0000-4000-9000-%012d' % i, host=name,
            hypervisor_hostname=name, hypervisor_type='QEMU',
            hypervisor_version=8002000, host_ip='10.%d.%d.%d' % (
                i >> 16, (i >> 8) & 255, i & 255),
            vcpus=128, vcpus_used=8, memory_mb=524288, memory_mb_used=16384,
            free_ram_mb=507904, local_gb=3500, local_gb_used=100,
            free_disk_gb=3400, disk_available_least=3400, cpu_info=CPU_INFO,
            numa_topology=None, pci_device_pools=objects.PciDevicePoolList(),
            supported_hv_specs=[], stats={'num_instances': '4'}, metrics='[]',
            cpu_allocation_ratio=4.0, ram_allocation_ratio=1.0,
            disk_allocation_ratio=1.0, updated_at=now)
        state = host_manager.HostState(name, name, 'cell1')
        state.update(compute=compute)
        states.append(state)
    return states


def _spec(extra_specs, hints=None):
    from nova import objects
    return objects.RequestSpec(
        instance_uuid=INSTANCE, flavor=objects.Flavor(extra_specs=extra_specs),
        scheduler_hints=hints or {}, num_instances=1)


def _timed(handler, flt, hosts, spec):
    start = time.perf_counter()
    passed = handler.get_filtered_objects([flt], hosts, spec)
    elapsed = time.perf_counter() - start
    assert len(passed) == len(hosts), (type(flt).__name__, len(passed))
    return elapsed / len(hosts) * 1e6


def _compare(handler, runs, hosts):
    """``({label: median}, {label: best})`` in us/host for ``runs`` =
    ``{label: (filter, spec)}``: WARMUP untimed then REPEATS timed rounds,
    the labels interleaved in each round."""
    times = {label: [] for label in runs}
    gc.collect()
    gc.disable()
    try:
        for i in range(WARMUP + REPEATS):
            for label, (flt, spec) in runs.items():
                us = _timed(handler, flt, hosts, spec)
                if i >= WARMUP:
                    times[label].append(us)
    finally:
        gc.enable()
    return ({label: statistics.median(t) for label, t in times.items()},
            {label: min(t) for label, t in times.items()})


class _PassAll:
    """A filter that does nothing per host: the handler's own share."""

    def run_filter_for_index(self, index):
        return True

    def filter_all(self, hosts, spec_obj):
        return hosts


def run() -> dict:
    from nova import objects
    from nova.scheduler import filters as nova_filters
    from nova.scheduler.filters import compute_capabilities_filter

    from sod_nova.compliance import request as compliance_request
    import sod_nova.conf
    from sod_nova.db import api as db_api
    from sod_nova.db import migration as db_migration
    from sod_nova.scheduler import filters as sod_filters
    from sod_nova.scheduler import instance_sources

    objects.register_all()
    conf = sod_nova.conf.CONF
    conf([], project='sod_nova')
    names = ['compute-%05d' % i for i in range(HOSTS)]
    hosts = _host_states(names)
    handler = nova_filters.HostFilterHandler()
    real_metadata_of = instance_sources.metadata_of

    def metadata_of(uuid, context=None):
        # Stands in for the BuildRequest read from Nova's API database.
        assert uuid == INSTANCE
        return dict(METADATA), dict(SYSTEM_METADATA)

    with tempfile.TemporaryDirectory() as tmp:
        conf.set_override('connection', 'sqlite:///%s' % os.path.join(tmp, 'sod.db'),
                          'sod_database')
        conf.set_override('sqlite_synchronous', False, 'sod_database')
        conf.set_override('architectures_file', _architectures_file(tmp), 'sod_catalog')
        instance_sources.metadata_of = metadata_of
        try:
            db_migration.sync(conf)
            flt = sod_filters.SecurityOnDemandFilter()
            catalog = flt._get_rule().catalog
            mask = catalog.capability_mask(ARCH)
            evidence_at = datetime.datetime.now(datetime.UTC)
            # Writing 10,000 rows takes longer than a monitor's default
            # evidence_max_age (10 s): the rows say they count for an hour;
            # the freshness test still runs on every host.
            valid_until = db_api.evidence_valid_until(evidence_at, 3600.0)
            setup = time.perf_counter()
            for name in names:
                db_api.host_set_trust(db_api.Context(), name, db_api.TRUSTED, 'benchmark', mask,
                                      evidence_at, architecture=ARCH,
                                      monitor='bench',
                                      valid_until=valid_until)
            setup = time.perf_counter() - setup
            sod_spec = _spec(FLAVOR_SOD, HINTS)
            request = compliance_request.effective(
                catalog.packages, FLAVOR_SOD,
                compliance_request.image_properties_from_sysmeta(SYSTEM_METADATA),
                METADATA, HINTS).request
            cells = bin(request.mask).count('1')

            # Rows cached: as for every request within host_cache_seconds.
            conf.set_override('host_cache_seconds', 3600.0, 'sod_filter')
            runs = {
                'sod': (flt, sod_spec),
                'compute_capabilities': (
                    compute_capabilities_filter.ComputeCapabilitiesFilter(),
                    _spec(CAPABILITY_SPEC)),
                'compute_capabilities_cpu_info': (
                    compute_capabilities_filter.ComputeCapabilitiesFilter(),
                    _spec(CPU_INFO_SPEC)),
                'handler_only': (_PassAll(), _spec({})),
            }
            median, best = _compare(handler, runs, hosts)

            # Rows re-read from SQLite on every request (host_cache_seconds=0).
            conf.set_override('host_cache_seconds', 0, 'sod_filter')
            cold, cold_best = _compare(handler, {'sod': (flt, sod_spec)}, hosts)

            # The per-request resolution alone (sources, parse, catalogue).
            start = time.perf_counter()
            for _ in range(1000):
                flt._resolve(sod_spec)
            resolve_us = (time.perf_counter() - start) / 1000 * 1e6
        finally:
            instance_sources.metadata_of = real_metadata_of
            db_api.dispose()
            for opt, group in (('connection', 'sod_database'),
                               ('sqlite_synchronous', 'sod_database'),
                               ('architectures_file', 'sod_catalog'),
                               ('host_cache_seconds', 'sod_filter')):
                conf.clear_override(opt, group)

    sod, ccf = best['sod'], best['compute_capabilities']
    ratio = sod / ccf
    overhead = best['handler_only']
    cpu = best['compute_capabilities_cpu_info']
    return {
        'name': 'filter',
        'value': round(sod, 3),
        'unit': 'us/host',
        'baseline': round(ccf, 3),
        'ratio': round(ratio, 3),
        'goal': '<= %.1fx ComputeCapabilitiesFilter' % GOAL_RATIO,
        'met': ratio <= GOAL_RATIO,
        'detail': {
            'hosts': HOSTS,
            'warmup': WARMUP,
            'repeats': REPEATS,
            'statistic': 'best of REPEATS, us/host of one request through '
                         'HostFilterHandler.get_filtered_objects (medians also given)',
            'request': str(request),
            'request_cells': cells,
            'request_cells_note': 'options 1,2,3,5,6,7 x C,I; option 4 (the other '
                                  '2 of the 14 cells) is refused by the parser',
            'request_sources': {'flavor_extra_specs': FLAVOR_SOD,
                                'image_properties_in_system_metadata': SYSTEM_METADATA,
                                'instance_metadata': METADATA,
                                'scheduler_hints': HINTS},
            'included': 'per-request policy resolution (4 sources, parse, union, '
                        'package lookup), evidence cutoff, row snapshot from the '
                        'cache; per host: row lookup, trusted + freshness + bitmask '
                        "test; the handler's own per-host work",
            'excluded': 'reading the instance metadata from Nova (BuildRequest, one '
                        'API-DB read per request): supplied by a function through '
                        'the instance_sources.metadata_of seam; the row re-read '
                        '(given separately below)',
            'rows_written_s': round(setup, 1),
            'sod_us_per_host': round(sod, 3),
            'sod_median_us_per_host': round(median['sod'], 3),
            'sod_rows_reread_each_request_us_per_host': round(cold_best['sod'], 3),
            'sod_rows_reread_each_request_median_us_per_host': round(cold['sod'], 3),
            'sod_per_request_resolution_us': round(resolve_us, 1),
            'compute_capabilities_spec': CAPABILITY_SPEC,
            'compute_capabilities_us_per_host': round(ccf, 3),
            'compute_capabilities_median_us_per_host': round(
                median['compute_capabilities'], 3),
            'cpu_info_spec': CPU_INFO_SPEC,
            'cpu_info_bytes': len(CPU_INFO),
            'cpu_info_us_per_host': round(cpu, 3),
            'cpu_info_median_us_per_host': round(
                median['compute_capabilities_cpu_info'], 3),
            'ratio_vs_cpu_info': round(sod / cpu, 3),
            'handler_only_us_per_host': round(overhead, 3),
            'net_of_handler_sod_us_per_host': round(sod - overhead, 3),
            'net_of_handler_compute_capabilities_us_per_host': round(ccf - overhead, 3),
            'net_of_handler_ratio': round((sod - overhead) / (ccf - overhead), 3),
        },
    }
