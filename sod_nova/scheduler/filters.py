"""SecurityOnDemandFilter: the paper's Policy Validation Module in Nova.

Enable it in nova.conf (``available_filters`` replaces its default, so
repeat nova's)::

    [filter_scheduler]
    available_filters = nova.scheduler.filters.all_filters
    available_filters = sod_nova.scheduler.filters.SecurityOnDemandFilter
    enabled_filters = ComputeFilter,...,SecurityOnDemandFilter

and give nova-scheduler sod-nova's options (in nova.conf or a second
``--config-file``): ``[sod_database] connection`` (the database the trust
monitor writes), ``[sod_filter] host_cache_seconds`` and ``record_rejections``,
and the ``[sod_catalog]`` files if not the shipped ones (read once, at the first
request with a policy). Freshness needs no option here: each host row says
until when the monitor counts its evidence.

Once per scheduling request (``filter_all``) it resolves the VM's effective
security request (:mod:`sod_nova.scheduler.request`) and takes a snapshot of
the host capability rows; per host (``host_passes``) it only looks the host
up in that snapshot and tests freshness and a bitmask. Fails closed: a
malformed policy, unreadable metadata or an unreadable database passes no
host for a VM that has (or may have) a request.
"""

import logging

from nova.scheduler import filters
from nova.scheduler import utils as scheduler_utils
from oslo_db import exception as db_exc
from oslo_log import log as oslo_logging
import sqlalchemy.exc

from sod_nova import exception
from sod_nova.catalog import CatalogError
import sod_nova.conf
from sod_nova.conf import catalog as catalog_conf
from sod_nova.db import api as db_api
from sod_nova.db import rejections as db_rejections
from sod_nova.policy import PolicyError
from sod_nova.scheduler import host_check
from sod_nova.scheduler import host_rows
from sod_nova.scheduler import instance_sources
from sod_nova.scheduler import request as sod_request

LOG = oslo_logging.getLogger(__name__)
CONF = sod_nova.conf.CONF

#: Hosts named in one rejection reason at most (the line stays readable).
_MAX_LISTED = 5

_DB_ERRORS = (db_exc.DBError, sqlalchemy.exc.SQLAlchemyError,
              db_api.DatabaseConfigError)


class _Refused(exception.SodNovaException):
    """This request passes no host; ``str()`` is the reason kept and logged."""


class _Decision:
    """What one scheduling request needs per host (lives inside filter_all)."""

    __slots__ = ('instance_uuid', 'request', 'rows', 'now')

    def __init__(self, instance_uuid, request, rows, now):
        self.instance_uuid = instance_uuid
        self.request = request
        self.rows = rows
        self.now = now


class SecurityOnDemandFilter(filters.BaseHostFilter):
    """Pass only hosts whose fresh, trusted capabilities meet the VM's request."""

    # A rebuild keeps the VM on its host; the new image's own properties are
    # not in the instance's system metadata until after the rebuild.
    RUN_ON_REBUILD = False

    def __init__(self):
        super().__init__()
        self._rows = host_rows.HostRowCache()
        self._catalog = None
        # Per-request state, keyed by id(spec_obj) and only while filter_all
        # runs: the filter object is shared by concurrent requests.
        self._decisions = {}

    # -- once per request ---------------------------------------------------

    def _get_catalog(self):
        if self._catalog is None:
            self._catalog = catalog_conf.load_catalog(CONF)
        return self._catalog

    def _resolve(self, spec_obj):
        """The VM's effective request; raises _Refused (fail closed)."""
        uuid = spec_obj.instance_uuid
        try:
            metadata, system_metadata = instance_sources.metadata_of(uuid)
        except instance_sources.SourcesUnavailable as exc:
            raise _Refused('cannot read the instance metadata: %s' % exc) from None
        hints = (spec_obj.scheduler_hints
                 if spec_obj.obj_attr_is_set('scheduler_hints') else {})
        extra_specs = spec_obj.flavor.extra_specs if spec_obj.flavor else {}
        try:
            packages = self._get_catalog().packages
        except CatalogError as exc:
            LOG.error('Security catalogue unusable, refusing every security '
                      'request: %s', exc)
            packages = {}
        try:
            return sod_request.effective_request(
                packages, extra_specs, system_metadata, metadata, hints)
        except PolicyError as exc:
            raise _Refused('malformed security policy: %s' % exc) from None

    def _decide(self, spec_obj):
        request = self._resolve(spec_obj)
        if not request:
            return _Decision(spec_obj.instance_uuid, request, {}, None)
        try:
            rows = self._rows.get(CONF)
        except _DB_ERRORS as exc:
            raise _Refused('cannot read the host capability rows: %s'
                           % exc) from None
        return _Decision(spec_obj.instance_uuid, request, rows, db_api.now())

    def filter_all(self, filter_obj_list, spec_obj):
        hosts = list(filter_obj_list)
        if not self.RUN_ON_REBUILD and scheduler_utils.request_is_rebuild(spec_obj):
            # BaseFilter._filter_one skips a rebuild for such filters; this
            # override must do the same.
            return hosts
        try:
            decision = self._decide(spec_obj)
        except _Refused as exc:
            LOG.warning('Instance %(uuid)s: no host passes: %(reason)s',
                        {'uuid': spec_obj.instance_uuid, 'reason': exc})
            self._keep_rejection(spec_obj.instance_uuid, str(exc))
            return []
        if not decision.request:
            return hosts
        key = id(spec_obj)
        self._decisions[key] = decision
        try:
            passed = [h for h in hosts if self.host_passes(h, spec_obj)]
        finally:
            self._decisions.pop(key, None)
        if hosts and not passed:
            self._explain_none(decision, hosts)
        return passed

    def _explain_none(self, decision, hosts):
        """One INFO line: which cells no usable host meets, closest architecture,
        and the hosts that would satisfy the request if they were trusted."""
        usable, blocked = [], []
        try:
            catalog = self._get_catalog()
        except CatalogError:
            catalog = None
        for host in hosts:
            row = decision.rows.get(host.host)
            distrust = host_check.distrust(row, decision.now)
            if distrust is None:
                usable.append(row)
            elif (row is not None and catalog is not None
                  and decision.request.satisfied_by(
                      catalog.capability_mask(row.architecture))):
                blocked.append('%s (%s)' % (host.host, distrust))
        names = sorted({row.architecture for row in usable})
        why = (catalog.explain(decision.request, names=names)
               if catalog is not None else None)
        if why is None:
            why = 'no trusted host with fresh evidence satisfies it'
        reason = '%s; %d of %d hosts trusted with fresh evidence (%s)' % (
            why, len(usable), len(hosts), ', '.join(names) or 'none')
        if blocked:
            reason += '; would satisfy it if trusted: %s%s' % (
                '; '.join(sorted(blocked)[:_MAX_LISTED]),
                '; …' if len(blocked) > _MAX_LISTED else '')
        LOG.info('Instance %(uuid)s: no host satisfies %(request)s: '
                 '%(reason)s',
                 {'uuid': decision.instance_uuid,
                  'request': decision.request, 'reason': reason})
        self._keep_rejection(decision.instance_uuid, reason)

    def _keep_rejection(self, instance_uuid, reason):
        if not instance_uuid or not CONF.sod_filter.record_rejections:
            return
        try:
            db_rejections.record(instance_uuid, reason, conf=CONF)
        except _DB_ERRORS as exc:
            LOG.warning('Instance %(uuid)s: could not keep the rejection '
                        'reason: %(exc)s', {'uuid': instance_uuid, 'exc': exc})

    # -- per host -------------------------------------------------------------

    def host_passes(self, host_state, spec_obj):
        """Whether ``host_state``'s capability row satisfies the request.

        Inside :meth:`filter_all` (the scheduler's path) this is a dict
        lookup, a time comparison and a bitmask test. Called on its own, it
        first resolves the request and reads the rows (I/O), then tests.
        """
        decision = self._decisions.get(id(spec_obj))
        if decision is None:
            return bool(self.filter_all([host_state], spec_obj))
        row = decision.rows.get(host_state.host)
        if host_check.passes(row, decision.request.mask, decision.now):
            return True
        if LOG.isEnabledFor(logging.DEBUG):
            LOG.debug('%(host)s fails instance %(uuid)s: %(why)s',
                      {'host': host_state.host, 'uuid': decision.instance_uuid,
                       'why': host_check.refusal(row, decision.request,
                                                 decision.now)})
        return False

