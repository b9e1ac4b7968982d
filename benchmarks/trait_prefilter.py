"""Benchmark: scheduling at 10,000 hosts with the trait pre-filter, against
the SoD filter alone.

What nova-scheduler does for one request, twice, on the same cloud:

* **filter alone**: ``GET /allocation_candidates`` for the flavor's
  resources (Nova's default ``[scheduler] max_placement_results``, 1000),
  then SecurityOnDemandFilter over the hosts Placement returned;
* **pre-filter**: the same query with
  ``required=CUSTOM_SOD_<ENTITY>_<C|I>`` for every requested cell (what a
  flavor's ``trait:CUSTOM_SOD_...=required`` adds), then the filter, which
  stays the authority, over what is left.

The cloud: 10,000 compute resource providers in real Placement (in-process,
``placement.direct``, SQLite; written in bulk into its tables, see
:func:`_providers`), each with VCPU/MEMORY_MB/DISK_GB inventory,
and 10,000 sod-nova host rows; one host in TRUSTED_EVERY is trusted with an
architecture that protects every cell, for any guest, and carries the
traits the trait publisher gives it (:func:`sod_nova.trust.traits.traits_for`:
a cell trait stands for protection of any guest), the others
are untrusted and carry none. The request is the filter benchmark's (12
cells, four sources). Value: milliseconds per request with the pre-filter
(Placement query + filter), best of REPEATS; baseline: the same without it.
The detail gives how many hosts each path offered the scheduler (with the
pre-filter, every candidate is compliant; without it, Placement's 1000
candidates hold only the trusted ones among them, and a request can find
no host while compliant hosts exist beyond the limit).
"""

import datetime
import gc
import os
import tempfile
import time

from benchmarks import filter as filter_bench

HOSTS = 10_000
TRUSTED_EVERY = 20
LIMIT = 1000
WARMUP = 2
REPEATS = 7
GOAL_RATIO = 1.0
RESOURCES = 'VCPU:1,MEMORY_MB:512,DISK_GB:1'


def _placement_conf(directory):
    from oslo_config import cfg
    from placement import conf as placement_conf
    conf = cfg.ConfigOpts()
    placement_conf.register_opts(conf)
    conf.set_override('connection', 'sqlite:///%s' % os.path.join(
        directory, 'placement.db'), 'placement_database')
    conf.set_override('sync_on_startup', True, 'placement_database')
    conf([], project='placement', default_config_files=[],
         default_config_dirs=[])
    return conf


def _providers(client, names, traits_of):
    """A provider per host name in Placement's own tables; ``{uuid: name}``.

    Creating 10,000 providers through the API takes most of an hour on a
    busy 2-core machine, so they are written in bulk into Placement's
    database (its schema, its standard resource classes and traits, the
    custom traits created through the API); every query that is timed goes
    through Placement's API. One API read checks what was written.
    """
    from placement import db_api
    from placement.db.sqlalchemy import models
    import sqlalchemy as sa

    custom = sorted({t for ts in traits_of.values() for t in ts})
    for name in custom:
        assert client.put('/traits/%s' % name,
                          microversion='1.6').status_code in (201, 204)
    engine = db_api.placement_context_manager.writer.get_engine()
    with engine.begin() as conn:
        classes = dict(conn.execute(sa.select(
            models.ResourceClass.name, models.ResourceClass.id)).all())
        trait_ids = dict(conn.execute(sa.select(
            models.Trait.name, models.Trait.id)).all())
        by_uuid, rps, inventories, rp_traits = {}, [], [], []
        for i, name in enumerate(names):
            uuid = '00000000-0000-4000-9000-%012d' % i
            rps.append({'id': i + 1, 'uuid': uuid, 'name': name,
                        'generation': 1, 'root_provider_id': i + 1})
            for rc, total in (('VCPU', 128), ('MEMORY_MB', 524288),
                              ('DISK_GB', 3500)):
                inventories.append({
                    'resource_provider_id': i + 1,
                    'resource_class_id': classes[rc], 'total': total,
                    'reserved': 0, 'min_unit': 1, 'max_unit': total,
                    'step_size': 1, 'allocation_ratio': 1.0})
            for trait in sorted(traits_of.get(name, ())):
                rp_traits.append({'resource_provider_id': i + 1,
                                  'trait_id': trait_ids[trait]})
            by_uuid[uuid] = name
        conn.execute(sa.insert(models.ResourceProvider), rps)
        conn.execute(sa.insert(models.Inventory), inventories)
        if rp_traits:
            conn.execute(sa.insert(models.ResourceProviderTrait), rp_traits)
    carrying = sum(1 for ts in traits_of.values() if ts)
    if custom:
        found = client.get('/resource_providers?required=%s' % custom[0],
                           microversion='1.18').json()['resource_providers']
        assert len(found) == carrying, (len(found), carrying)
    return by_uuid


def _schedule(client, handler, flt, spec, states, by_uuid, required):
    """One request: ``(seconds, candidates, passed)``."""
    path = '/allocation_candidates?resources=%s&limit=%d' % (RESOURCES, LIMIT)
    if required:
        path += '&required=%s' % ','.join(sorted(required))
    start = time.perf_counter()
    resp = client.get(path, microversion='1.29')
    summaries = resp.json()['provider_summaries']
    hosts = [states[by_uuid[u]] for u in summaries]
    passed = handler.get_filtered_objects([flt], hosts, spec)
    return time.perf_counter() - start, len(hosts), len(passed)


def run() -> dict:
    from nova import objects
    from nova.scheduler import filters as nova_filters
    from placement import direct

    from sod_nova.compliance import request as compliance_request
    from sod_nova.compliance import rule as rule_mod
    import sod_nova.conf
    from sod_nova.conf import catalog as catalog_conf
    from sod_nova.db import api as db_api
    from sod_nova.db import migration as db_migration
    from sod_nova.scheduler import filters as sod_filters
    from sod_nova.scheduler import instance_sources
    from sod_nova.trust import traits as traits_mod

    objects.register_all()
    conf = sod_nova.conf.CONF
    conf([], project='sod_nova')
    names = ['compute-%05d' % i for i in range(HOSTS)]
    states = dict(zip(names, filter_bench._host_states(names), strict=True))
    handler = nova_filters.HostFilterHandler()
    real_metadata_of = instance_sources.metadata_of

    def metadata_of(uuid, context=None):
        return dict(filter_bench.METADATA), dict(filter_bench.SYSTEM_METADATA)

    with tempfile.TemporaryDirectory() as tmp:
        conf.set_override('connection', 'sqlite:///%s' % os.path.join(
            tmp, 'sod.db'), 'sod_database')
        conf.set_override('sqlite_synchronous', False, 'sod_database')
        conf.set_override('architectures_file',
                          filter_bench._architectures_file(tmp), 'sod_catalog')
        conf.set_override('evidence_max_age', 3600.0, 'sod_trust')
        conf.set_override('host_cache_seconds', 3600.0, 'sod_filter')
        instance_sources.metadata_of = metadata_of
        try:
            db_migration.sync(conf)
            flt = sod_filters.SecurityOnDemandFilter()
            catalog = catalog_conf.load_catalog(conf)   # as the filter does
            rule = rule_mod.Rule(catalog)
            mask = catalog.capability_mask(filter_bench.ARCH)
            now = datetime.datetime.now(datetime.UTC)
            traits_of = {}
            for i, name in enumerate(names):
                trusted = i % TRUSTED_EVERY == 0
                db_api.host_set_trust(
                    db_api.Context(), name,
                    db_api.TRUSTED if trusted else db_api.UNTRUSTED,
                    'benchmark', mask if trusted else 0, now,
                    architecture=filter_bench.ARCH, monitor='bench',
                    valid_until=db_api.evidence_valid_until(
                        now, conf.sod_trust.evidence_max_age))
                row = db_api.host_get(db_api.Context(), name) if trusted else None
                traits_of[name] = traits_mod.traits_for(
                    rule, row, now - datetime.timedelta(seconds=3600))
            effective = compliance_request.effective(
                catalog.packages, filter_bench.FLAVOR_SOD,
                compliance_request.image_properties_from_sysmeta(
                    filter_bench.SYSTEM_METADATA),
                filter_bench.METADATA, filter_bench.HINTS)
            assert not effective.malformed, effective.errors
            required = {traits_mod.trait_name(e, p)
                        for e, p in effective.request.cells}
            spec = filter_bench._spec(filter_bench.FLAVOR_SOD,
                                      filter_bench.HINTS)
            pconf = _placement_conf(tmp)
            with direct.PlacementDirect(pconf) as client:
                setup = time.perf_counter()
                by_uuid = _providers(client, names, traits_of)
                setup = time.perf_counter() - setup
                times = {'alone': [], 'prefilter': []}
                counts = {}
                gc.collect()
                for i in range(WARMUP + REPEATS):
                    for label, req in (('alone', ()), ('prefilter', required)):
                        seconds, offered, passed = _schedule(
                            client, handler, flt, spec, states, by_uuid, req)
                        counts[label] = (offered, passed)
                        if i >= WARMUP:
                            times[label].append(seconds * 1000.0)
        finally:
            instance_sources.metadata_of = real_metadata_of
            db_api.dispose()
            for opt, group in (('connection', 'sod_database'),
                               ('sqlite_synchronous', 'sod_database'),
                               ('architectures_file', 'sod_catalog'),
                               ('host_cache_seconds', 'sod_filter'),
                               ('evidence_max_age', 'sod_trust')):
                conf.clear_override(opt, group)

    value, baseline = min(times['prefilter']), min(times['alone'])
    ratio = value / baseline
    return {
        'name': 'trait-prefilter',
        'value': round(value, 2),
        'unit': 'ms/request',
        'baseline': round(baseline, 2),
        'ratio': round(ratio, 3),
        'goal': '<= %.1fx the filter alone' % GOAL_RATIO,
        'met': ratio <= GOAL_RATIO,
        'detail': {
            'hosts': HOSTS,
            'trusted_hosts': HOSTS // TRUSTED_EVERY,
            'placement_limit': LIMIT,
            'required_traits': sorted(required),
            'statistic': 'best of %d requests after %d warm-up, Placement '
                         'query + SecurityOnDemandFilter' % (REPEATS, WARMUP),
            'alone_offered_passed': counts['alone'],
            'prefilter_offered_passed': counts['prefilter'],
            'alone_ms': [round(t, 2) for t in times['alone']],
            'prefilter_ms': [round(t, 2) for t in times['prefilter']],
            'providers_created_s': round(setup, 1),
        },
    }
