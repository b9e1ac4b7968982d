"""SecurityOnDemandFilter: the paper's Policy Validation Module in Nova.

Once per scheduling request it resolves the VM's effective security request
and launch features and snapshots the host capability rows; per host it asks
the one compliance rule (:class:`sod_nova.compliance.Rule`). Fails closed.
Enabling it, and its options: doc/source/contributor/scheduler-and-compliance.rst.
"""

import logging

from nova.scheduler import filters
from nova.scheduler import utils as scheduler_utils
from oslo_db import exception as db_exc
from oslo_log import log as oslo_logging
import sqlalchemy.exc

from sod_nova import compliance
from sod_nova import exception
from sod_nova.catalog import CatalogError
from sod_nova.catalog import guest as guest_mod
from sod_nova.compliance import request as compliance_request
import sod_nova.conf
from sod_nova.conf import catalog as catalog_conf
from sod_nova.db import api as db_api
from sod_nova.db import rejections as db_rejections
from sod_nova.scheduler import host_rows
from sod_nova.scheduler import instance_sources

LOG = oslo_logging.getLogger(__name__)
CONF = sod_nova.conf.CONF

#: Hosts named in one rejection reason at most (the line stays readable).
_MAX_LISTED = 5

_DB_ERRORS = (db_exc.DBError, sqlalchemy.exc.SQLAlchemyError,
              db_api.DatabaseConfigError)


def _context():
    """A database context for one request. The filter runs inside
    nova-scheduler, which has no start of sod-nova's own: the database is
    configured (once; after that a no-op) from ``[sod_database]`` here."""
    db_api.configure(CONF)
    return db_api.Context()


def _image_properties(spec_obj, system_metadata):
    """The image's properties: its ``sod:`` keys from the instance's system
    metadata (Nova's ``ImageMetaProps`` drops unknown keys), its launch
    features from the request spec's image where set there."""
    props = compliance_request.image_properties_from_sysmeta(system_metadata)
    image = spec_obj.image if spec_obj.obj_attr_is_set('image') else None
    if image is not None and image.obj_attr_is_set('properties'):
        for key in guest_mod.IMAGE_KEYS:
            if image.properties.obj_attr_is_set(key):
                props.setdefault(key, getattr(image.properties, key))
    return props


class _Refused(exception.SodNovaException):
    """This request passes no host; ``str()`` is the reason kept and logged."""


class _Decision:
    """What one scheduling request needs per host (lives inside filter_all)."""

    __slots__ = ('instance_uuid', 'effective', 'mask', 'rows', 'now', 'test')

    def __init__(self, instance_uuid, effective, rows, now, test=None):
        self.instance_uuid = instance_uuid
        self.effective = effective
        self.mask = effective.request.mask
        self.rows = rows
        self.now = now
        #: The compliance rule's test of one host row for this request.
        self.test = test


class SecurityOnDemandFilter(filters.BaseHostFilter):
    """Pass only hosts whose fresh, trusted capabilities meet the VM's request."""

    # A rebuild keeps the VM on its host; the new image's own properties are
    # not in the instance's system metadata until after the rebuild.
    RUN_ON_REBUILD = False

    def __init__(self):
        super().__init__()
        self._rows = host_rows.HostRowCache()
        self._rule = None
        # Per-request state, keyed by id(spec_obj) and only while filter_all
        # runs: the filter object is shared by concurrent requests.
        self._decisions = {}

    # -- once per request ---------------------------------------------------

    def _get_rule(self):
        """The compliance rule over the configured catalogue (read once)."""
        if self._rule is None:
            self._rule = compliance.Rule(catalog_conf.load_catalog(CONF))
        return self._rule

    def _resolve(self, spec_obj):
        """The VM's effective request; raises _Refused (fail closed)."""
        uuid = spec_obj.instance_uuid
        try:
            metadata, system_metadata = instance_sources.metadata_of(uuid)
        except instance_sources.SourcesUnavailable as exc:
            raise _Refused('cannot read the instance metadata: %s' % exc) from None
        try:
            packages = self._get_rule().catalog.packages
        except CatalogError as exc:
            LOG.error('Security catalogue unusable, refusing every security '
                      'request: %s', exc)
            packages, unusable = {}, exc
        else:
            unusable = None
        hints = (spec_obj.scheduler_hints
                 if spec_obj.obj_attr_is_set('scheduler_hints') else {})
        extra_specs = spec_obj.flavor.extra_specs if spec_obj.flavor else {}
        effective = compliance_request.effective(
            packages, extra_specs, _image_properties(spec_obj, system_metadata),
            metadata, hints)
        if unusable is not None and effective.request:
            raise _Refused('the security catalogue is unusable: %s'
                           % unusable)
        return effective

    def _decide(self, spec_obj):
        effective = self._resolve(spec_obj)
        if not effective.request:
            return _Decision(spec_obj.instance_uuid, effective, {}, None)
        try:
            rows = self._rows.get(_context(), CONF)
        except _DB_ERRORS as exc:
            raise _Refused('cannot read the host capability rows: %s'
                           % exc) from None
        now = db_api.now()
        return _Decision(spec_obj.instance_uuid, effective, rows, now,
                         self._rule.test_for(effective.request.mask,
                                             effective.guest, now))

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
        if not decision.mask:
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
        rows = [decision.rows.get(host.host) for host in hosts]
        why, names, usable, blocked = self._get_rule().explain_none(
            decision.effective, rows, decision.now)
        reason = '%s; %d of %d hosts trusted with fresh evidence (%s)' % (
            why, len(usable), len(hosts), ', '.join(names) or 'none')
        if blocked:
            reason += '; would satisfy it if trusted: %s%s' % (
                '; '.join(sorted(blocked)[:_MAX_LISTED]),
                '; …' if len(blocked) > _MAX_LISTED else '')
        # A malformed source is a surprise worth a warning; a request no
        # host meets now is the scheduler's ordinary "no valid host".
        LOG.log(logging.WARNING if decision.effective.malformed else logging.INFO,
                'Instance %(uuid)s: no host satisfies %(request)s: %(reason)s',
                {'uuid': decision.instance_uuid,
                 'request': decision.effective.request, 'reason': reason})
        self._keep_rejection(decision.instance_uuid, reason)

    def _keep_rejection(self, instance_uuid, reason):
        if not instance_uuid or not CONF.sod_filter.record_rejections:
            return
        try:
            db_rejections.record(_context(), instance_uuid, reason)
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
        if decision.test(row):
            return True
        if LOG.isEnabledFor(logging.DEBUG):
            LOG.debug('%(host)s fails instance %(uuid)s: %(why)s',
                      {'host': host_state.host, 'uuid': decision.instance_uuid,
                       'why': self._rule.check(decision.effective,
                                               host_state.host, row,
                                               decision.now).reason})
        return False

