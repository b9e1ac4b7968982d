"""Verified capabilities as Placement traits on compute resource providers.

For every host whose row is ``trusted`` with fresh evidence, the provider
named after the host carries ``CUSTOM_SOD_<ENTITY>_<C|I>`` for each cell
its capability mask protects, plus the standard os-traits of its
architecture (:data:`STANDARD_TRAITS`); any other host carries none of
them. Other traits of the provider (Nova's own) are left as they are.

The monitor's listeners run on its thread, so :class:`TraitPublisher` only
queues the host there; a worker thread talks to Placement, re-reading the
host's row (the latest verdict wins, however many changes were queued).
A generation conflict (someone else changed the provider's traits) is
retried with the fresh generation. The scheduler filter stays the
authority: traits may lag a trust change by one Placement round trip.
"""

import queue
import threading

from keystoneauth1 import loading as ks_loading
from oslo_log import log as logging
from oslo_service import loopingcall
import tenacity

from sod_nova import exception
from sod_nova.db import api as db_api
from sod_nova.policy import entities

LOG = logging.getLogger(__name__)

#: What one sync attempt returns when Placement refused its generation.
_CONFLICT = object()

PREFIX = 'CUSTOM_SOD_'
MICROVERSION = 'placement 1.6'

#: Standard os-traits an architecture's verified row stands for (only
#: ``HW_CPU_`` names: Nova's virt drivers own the ``COMPUTE_`` ones).
STANDARD_TRAITS = {
    'AMD-SEV-SNP': ('HW_CPU_X86_AMD_SEV_SNP',),
    'Intel-TDX': ('HW_CPU_X86_INTEL_TDX',),
    'Intel-SGX': ('HW_CPU_X86_SGX',),
}

ALL_STANDARD = frozenset(t for names in STANDARD_TRAITS.values()
                         for t in names)


def trait_name(entity, prop):
    return '%s%s_%s' % (PREFIX, entity.key.upper(), prop.name)


ALL_CUSTOM = frozenset(trait_name(e, p) for e, p in entities.CELLS)


def traits_for(row, now):
    """The traits ``row`` (a HostRow or None) earns at ``now``: none
    unless it is trusted with evidence still valid then."""
    if row is None or not row.usable(now):
        return frozenset()
    names = {trait_name(e, p) for e, p in entities.CELLS
             if row.capability_mask & entities.bit(e, p)}
    names.update(STANDARD_TRAITS.get(row.architecture, ()))
    return frozenset(names)


class PlacementError(exception.SodNovaException):
    """Placement refused or could not be reached."""


class Placement:
    """The few Placement calls the publisher makes (keystoneauth session)."""

    def __init__(self, session, endpoint):
        self.session = session
        self.endpoint = endpoint.rstrip('/')

    @classmethod
    def from_conf(cls, conf):
        group = conf.sod_placement
        auth = ks_loading.load_auth_from_conf_options(conf, 'sod_placement')
        if auth is None:
            raise ValueError('[sod_placement] publish_traits needs '
                             'auth_type and credentials in [sod_placement]')
        session = ks_loading.load_session_from_conf_options(
            conf, 'sod_placement', auth=auth)
        endpoint = group.endpoint_override or session.get_endpoint(
            service_type='placement', interface=group.interface,
            region_name=group.region_name)
        return cls(session, endpoint)

    def _call(self, method, path, ok=(200,), **kwargs):
        try:
            resp = self.session.request(
                self.endpoint + path, method, raise_exc=False,
                headers={'OpenStack-API-Version': MICROVERSION}, **kwargs)
        except Exception as exc:
            raise PlacementError('%s %s: %s' % (method, path, exc)) from exc
        if resp.status_code not in ok:
            raise PlacementError('%s %s: HTTP %s %s' % (
                method, path, resp.status_code, resp.text[:200]))
        return resp

    def provider(self, name):
        """The uuid of the resource provider called ``name``, or None."""
        providers = self._call('GET', '/resource_providers', params={
            'name': name}).json()['resource_providers']
        return providers[0]['uuid'] if providers else None

    def ensure_trait(self, name):
        self._call('PUT', '/traits/%s' % name, ok=(201, 204))

    def traits(self, uuid):
        body = self._call('GET', '/resource_providers/%s/traits'
                          % uuid).json()
        return set(body['traits']), body['resource_provider_generation']

    def set_traits(self, uuid, traits, generation):
        """False on a generation conflict (the caller reads and retries)."""
        resp = self._call('PUT', '/resource_providers/%s/traits' % uuid,
                          ok=(200, 409), json={
                              'traits': sorted(traits),
                              'resource_provider_generation': generation})
        return resp.status_code == 200


class TraitPublisher:
    """Keeps each host's SoD traits equal to what its row earns."""

    RETRIES = 5

    def __init__(self, conf, placement):
        self.conf = conf
        self.placement = placement
        self._queue = queue.Queue()
        self._thread = None
        self._known_traits = set()

    # -- the monitor's side --------------------------------------------------

    def trust_changed(self, change):
        """Monitor listener: queue the host (no I/O on the monitor's thread)."""
        self._queue.put(change['host'])

    def start(self, resync_interval=None):
        """Start the worker; with ``resync_interval`` (s), also queue every
        host that often (see :meth:`sync_all`)."""
        self._thread = threading.Thread(target=self._run, daemon=True,
                                        name='sod-trait-publisher')
        self._thread.start()
        self._resync = None
        if resync_interval:
            self._resync = loopingcall.FixedIntervalLoopingCall(
                self._resync_once)
            self._resync.start(resync_interval, initial_delay=resync_interval)

    def _resync_once(self):
        try:
            self.sync_all()
        except Exception as exc:
            LOG.warning('trait resync failed: %(exc)s', {'exc': exc})

    def stop(self):
        if self._thread is not None:
            if self._resync is not None:
                self._resync.stop()
                self._resync.wait()
            self._queue.put(None)
            self._thread.join(30)
            self._thread = None

    def flush(self):
        """Wait until every queued host is published (tests, shutdown)."""
        self._queue.join()

    def _run(self):
        while True:
            host = self._queue.get()
            try:
                if host is None:
                    return
                self.sync(host)
            except Exception as exc:
                LOG.warning('%(host)s: traits not published: %(exc)s',
                            {'host': host, 'exc': exc})
            finally:
                self._queue.task_done()

    # -- Placement -----------------------------------------------------------

    def sync(self, host):
        """Make ``host``'s provider carry exactly the traits its row earns;
        the set of SoD traits it carries afterwards."""
        uuid = self.placement.provider(host)
        if uuid is None:
            LOG.debug('%(host)s: no resource provider; no traits',
                      {'host': host})
            return None
        # A concurrent writer (Nova's resource tracker) moved the provider's
        # generation: read again and retry, a bounded number of times.
        return tenacity.Retrying(
            retry=tenacity.retry_if_result(lambda wanted: wanted is _CONFLICT),
            stop=tenacity.stop_after_attempt(self.RETRIES),
            retry_error_callback=self._too_many_conflicts(host),
        )(self._sync_once, host, uuid)

    def _sync_once(self, host, uuid):
        """One read-compare-write of ``host``'s traits; ``_CONFLICT`` when
        the provider's generation moved under us (Placement's 409)."""
        wanted = traits_for(db_api.host_get(host, self.conf), db_api.now())
        current, generation = self.placement.traits(uuid)
        ours = ALL_CUSTOM | ALL_STANDARD
        target = (current - ours) | wanted
        if target == current:
            return wanted
        for name in sorted(wanted - self._known_traits):
            if name.startswith(PREFIX):
                self.placement.ensure_trait(name)
            self._known_traits.add(name)
        if not self.placement.set_traits(uuid, target, generation):
            return _CONFLICT
        LOG.info('%(host)s: traits now %(traits)s',
                 {'host': host, 'traits': ', '.join(sorted(wanted)) or 'none'})
        return wanted

    def _too_many_conflicts(self, host):
        def give_up(state):
            raise PlacementError('%s: traits changed under us %d times'
                                 % (host, self.RETRIES))
        return give_up

    def sync_all(self):
        """Queue every host with a row (a periodic pass catches lost
        changes, and evidence that went stale without a new verdict)."""
        for row in db_api.host_get_all(self.conf):
            self._queue.put(row.host)
