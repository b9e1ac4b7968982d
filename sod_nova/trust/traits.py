"""Verified capabilities as Placement traits on compute resource providers.

sod-nova writes and removes only its own ``CUSTOM_SOD_*`` traits, on the root
provider of a host trusted with fresh evidence, for flavors to require; the
standard traits are Nova's drivers'. :class:`TraitPublisher` updates
Placement from a worker thread. See doc/source/contributor/trust-plane.rst.
"""

import queue
import re
import threading

from keystoneauth1 import loading as ks_loading
from oslo_log import log as logging
from oslo_service import loopingcall
import tenacity

from sod_nova import exception
from sod_nova.compliance import rule as rule_mod
from sod_nova.conf import catalog as catalog_conf
from sod_nova.db import api as db_api
from sod_nova.policy import entities

LOG = logging.getLogger(__name__)

#: What one write attempt returns when Placement refused its generation.
_CONFLICT = object()
#: Queued for the worker: run :meth:`TraitPublisher.remove_legacy`.
_REMOVE_LEGACY = object()

PREFIX = 'CUSTOM_SOD_'
ATTESTED_PREFIX = PREFIX + 'ATTESTED_'
MICROVERSION = 'placement 1.6'
#: Placement's limit on a trait name.
MAX_TRAIT_LENGTH = 255

#: The standard traits the last release wrote on the root provider of a
#: trusted AMD-SEV-SNP, Intel-TDX or Intel-SGX host (and removed from every
#: other host's). Nova 34 reports the first two only on the child provider
#: of its MEM_ENCRYPTION_CONTEXT inventory, and SGX nowhere.
LEGACY_STANDARD = frozenset((
    'HW_CPU_X86_AMD_SEV_SNP', 'HW_CPU_X86_INTEL_TDX', 'HW_CPU_X86_SGX'))
#: A trait in Placement's list (on no provider) that says the legacy
#: standard traits are gone; deleting it makes the publisher look again.
LEGACY_REMOVED = PREFIX + 'LEGACY_STANDARD_TRAITS_REMOVED'


def trait_name(entity, prop):
    return '%s%s_%s' % (PREFIX, entity.key.upper(), prop.name)


#: The cell traits, one per (entity, property).
CELL_TRAITS = frozenset(trait_name(e, p) for e, p in entities.CELLS)


def attested_trait(architecture):
    """``CUSTOM_SOD_ATTESTED_<NAME>`` of an architecture name: upper-cased,
    every character other than A-Z and 0-9 an underscore."""
    return ATTESTED_PREFIX + re.sub('[^A-Z0-9]', '_', architecture.upper())


def is_ours(trait):
    """Whether sod-nova publishes (and so removes) ``trait``."""
    return trait in CELL_TRAITS or trait.startswith(ATTESTED_PREFIX)


def attested_traits(catalog):
    """``{architecture name: attested trait}`` of the catalogue's rows that
    protect only a guest launched for them.

    Raises ValueError when a name makes no valid Placement trait, or two
    rows would share one (a flavor could not tell them apart).
    """
    names = {}
    for arch in catalog.architectures:
        if arch.guest is None:
            continue
        trait = attested_trait(arch.name)
        if len(trait) > MAX_TRAIT_LENGTH:
            raise ValueError(
                'architecture %r: its trait %s is longer than the %d '
                'characters Placement allows; shorten the name'
                % (arch.name, trait, MAX_TRAIT_LENGTH))
        if trait in names.values():
            other = [n for n, t in names.items() if t == trait]
            raise ValueError(
                'architecture %r publishes as trait %s%s; rename it so that '
                'each architecture that protects only guests launched for it '
                'has a trait of its own' % (
                    arch.name, trait,
                    ', as %r does' % other[0] if other else ''))
        names[arch.name] = trait
    return names


def traits_for(rule, row, now):
    """The sod-nova traits ``row`` (a HostRow or None) earns at ``now``
    under ``rule`` (a :class:`~sod_nova.compliance.rule.Rule`): none unless
    it is trusted with evidence still valid then."""
    if rule_mod.distrust(row, now) is not None:
        return frozenset()
    anyone = rule.protection(row, frozenset())
    names = {trait_name(e, p) for e, p in entities.CELLS
             if anyone & entities.bit(e, p)}
    arch = rule.catalog.get(row.architecture)
    if arch is not None and arch.guest is not None:
        launched = rule.protection(row, frozenset((arch.guest.feature,)))
        if launched & ~anyone:
            names.add(attested_trait(arch.name))
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

    def trait_exists(self, name):
        return self._call('GET', '/traits/%s' % name,
                          ok=(204, 404)).status_code == 204

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
    """Keeps each host's sod-nova traits equal to what its row earns.

    ``catalog``: the catalogue the monitor verifies rows against (loaded
    from ``conf`` when None); ValueError when its architecture names make
    no distinct valid traits (:func:`attested_traits`).
    """

    RETRIES = 5

    def __init__(self, conf, placement, catalog=None):
        self.conf = conf
        self.placement = placement
        if catalog is None:
            catalog = catalog_conf.load_catalog(conf)
        attested_traits(catalog)
        self.rule = rule_mod.Rule(catalog)
        self._queue = queue.Queue()
        self._thread = None
        self._resync = None
        self._known_traits = set()
        self._legacy_done = False

    # -- the monitor's side --------------------------------------------------

    def trust_changed(self, change):
        """Monitor listener: queue the host (no I/O on the monitor's thread)."""
        self._queue.put(change['host'])

    def start(self, resync_interval=None):
        """Start the worker; with ``resync_interval`` (s), also call
        :meth:`sync_all` that often."""
        self._thread = threading.Thread(target=self._run, daemon=True,
                                        name='sod-trait-publisher')
        self._thread.start()
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
                self._resync = None
            self._queue.put(None)
            self._thread.join(30)
            self._thread = None

    def flush(self):
        """Wait until every queued host is published (tests, shutdown)."""
        self._queue.join()

    def _run(self):
        while True:
            job = self._queue.get()
            try:
                if job is None:
                    return
                if job is _REMOVE_LEGACY:
                    self.remove_legacy()
                else:
                    self.sync(job)
            except Exception as exc:
                LOG.warning('%(job)s: traits not published: %(exc)s',
                            {'job': 'legacy standard traits'
                             if job is _REMOVE_LEGACY else job, 'exc': exc})
            finally:
                self._queue.task_done()

    # -- Placement -----------------------------------------------------------

    def sync(self, host):
        """Make ``host``'s provider carry exactly the sod-nova traits its
        row earns, leaving every other trait as it is; those traits, or
        None when the host has no resource provider."""
        uuid = self.placement.provider(host)
        if uuid is None:
            LOG.debug('%(host)s: no resource provider; no traits',
                      {'host': host})
            return None

        def target_of(current):
            wanted = traits_for(self.rule, db_api.host_get(db_api.Context(), host),
                                db_api.now())
            return {t for t in current if not is_ours(t)} | wanted

        current, target = self._write(host, uuid, target_of)
        wanted = frozenset(t for t in target if is_ours(t))
        if target != current:
            LOG.info('%(host)s: traits now %(traits)s', {
                'host': host, 'traits': ', '.join(sorted(wanted)) or 'none'})
        return wanted

    def _write(self, host, uuid, target_of):
        """Set the traits of ``host``'s provider ``uuid`` to
        ``target_of(current traits)``; ``(current, target)`` as written.

        A concurrent writer (Nova's report client) moves the provider's
        generation: read again and retry, a bounded number of times.
        """
        def attempt():
            current, generation = self.placement.traits(uuid)
            target = target_of(current)
            if target == current:
                return current, target
            for name in sorted(target - current - self._known_traits):
                self.placement.ensure_trait(name)
                self._known_traits.add(name)
            if not self.placement.set_traits(uuid, target, generation):
                return _CONFLICT
            return current, target

        def give_up(state):
            raise PlacementError('%s: traits changed under us %d times'
                                 % (host, self.RETRIES))

        return tenacity.Retrying(
            retry=tenacity.retry_if_result(lambda done: done is _CONFLICT),
            stop=tenacity.stop_after_attempt(self.RETRIES),
            retry_error_callback=give_up,
        )(attempt)

    def remove_legacy(self):
        """Take :data:`LEGACY_STANDARD` off the root provider of every host
        with a row, where the last release wrote and removed them; the hosts
        they were taken from.

        Nova 34 never reports these traits on a root provider (its libvirt
        driver puts SEV-SNP's and TDX's on the child provider of their
        MEM_ENCRYPTION_CONTEXT inventory, SGX's nowhere), so no trait Nova
        reports is removed. Repeated by :meth:`sync_all` until a pass finds
        none left (a monitor of the last release may still be writing them
        during a rolling upgrade), then marked done in Placement
        (:data:`LEGACY_REMOVED`), so that a trait an operator sets by hand
        later is never touched.
        """
        if self._legacy_done:
            return []
        if self.placement.trait_exists(LEGACY_REMOVED):
            self._legacy_done = True
            return []
        taken = []
        for row in db_api.host_get_all(db_api.Context()):
            uuid = self.placement.provider(row.host)
            if uuid is None:
                continue
            current, target = self._write(
                row.host, uuid, lambda current: current - LEGACY_STANDARD)
            if target != current:
                LOG.info('%(host)s: removed %(traits)s, written by an earlier '
                         'release of sod-nova (it writes no standard trait '
                         'now)', {
                             'host': row.host,
                             'traits': ', '.join(sorted(current - target))})
                taken.append(row.host)
        if not taken:
            self.placement.ensure_trait(LEGACY_REMOVED)
            self._legacy_done = True
        return taken

    def sync_all(self):
        """Queue the legacy clean-up until it is done, then every host with
        a row (a periodic pass catches lost changes, and evidence that went
        stale without a new verdict)."""
        if not self._legacy_done:
            self._queue.put(_REMOVE_LEGACY)
        for row in db_api.host_get_all(db_api.Context()):
            self._queue.put(row.host)
