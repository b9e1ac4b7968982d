"""The trust monitor (TMs): verifies evidence and keeps host trust rows.

A service composed of small parts: the RPC endpoint (:mod:`.endpoint`), the
batcher (:mod:`.batcher`), the recorder (:mod:`.recorder`), the challenger
(:mod:`.challenger`) and the alerts (:mod:`.alerts`); see
``doc/source/contributor/trust-monitor.rst``.
"""

import collections
import time

from oslo_log import log as logging
import oslo_messaging
from oslo_service import service as oslo_service

from sod_nova import hostname
from sod_nova import trust
from sod_nova.conf import catalog as catalog_conf
from sod_nova.db import api as db_api
from sod_nova.db import enrollment as db_enrollment
from sod_nova.db import evidence_rejections
from sod_nova.metrics import exporter as metrics_exporter
from sod_nova.metrics import trust as trust_metrics
from sod_nova.trust import ear
from sod_nova.trust import keys
from sod_nova.trust import platform
from sod_nova.trust import references as references_mod
from sod_nova.trust import rpc
from sod_nova.trust import verify
from sod_nova.trust.agent import rpcapi as agent_rpcapi
from sod_nova.trust.monitor import alerts
from sod_nova.trust.monitor import batcher
from sod_nova.trust.monitor import challenger
from sod_nova.trust.monitor import database
from sod_nova.trust.monitor import endpoint
from sod_nova.trust.monitor import enrollments
from sod_nova.trust.monitor import recorder

LOG = logging.getLogger(__name__)


class TrustMonitor(oslo_service.Service):
    """A monitor process's service. Construction does no I/O; :meth:`start` does.

    An oslo.service service (``sod-trust-monitor`` runs it under the
    launcher): the stale sweep is a timer of its thread group, which
    ``wait()`` waits for; the embedded cloud calls :meth:`start` and
    :meth:`stop`.
    """

    #: The class of its verdict recorder.
    recorder_class = recorder.VerdictRecorder

    def __init__(self, conf, catalog=None, transport=None, clock=time.time,
                 name=None, topic=None, hosts=None, architectures=None,
                 nova_domains=None):
        """``name``, ``topic``, ``hosts`` and ``architectures`` override the
        [sod_trust] options ``monitor_name``, ``monitor_topic``,
        ``monitor_hosts`` and ``monitor_architectures``, so that one process
        (the embedded cloud, a test) can run several monitors.

        ``nova_domains(host)``: the instance UUIDs Nova places on ``host``,
        to compare with the domains libvirt reports (``[sod_trust]
        unknown_domains``); without it the domains are not checked."""
        super().__init__()
        self.conf = conf
        self.name = name or conf.sod_trust.monitor_name
        self.topic = topic or conf.sod_trust.monitor_topic
        self.hosts = set(conf.sod_trust.monitor_hosts if hosts is None else hosts)
        self.architectures = {a.lower() for a in (
            conf.sod_trust.monitor_architectures if architectures is None
            else architectures)}
        self.catalog = catalog
        self.clock = clock
        self._transport = transport
        self._own_transport = transport is None
        self._server = None
        self._notifier = None
        self._notify_transport = None
        self._listeners = []
        self.counters = collections.Counter()
        self.alerts = alerts.RejectionAlerts()
        self.database = database.Database()
        self.enrollments = enrollments.EnrollmentCache(self.database)
        self.challenger = challenger.Challenger(
            conf, self.enrollments, self.serves, self._now)
        domains = None if nova_domains is None else platform.DomainCheck(
            nova_domains, conf.sod_trust.unknown_domains == 'untrusted')
        self.recorder = self.recorder_class(
            conf, self.name, self.enrollments, self.database, self.challenger,
            self.alerts, self._publish, self.serves, self._now, self.counters,
            domains)
        #: Its Prometheus endpoint (``[sod_metrics] monitor_port``).
        self.metrics_exporter = metrics_exporter.Exporter(
            conf, 'monitor_port', 'sod-trust-monitor %s' % self.name)
        self.metrics = trust_metrics.MonitorMetrics(
            self.metrics_exporter.registry, self.counters)
        process = self.recorder.process
        if self.metrics_exporter.enabled:
            process = self.metrics.timed_batches(process)
        self.batcher = batcher.Batcher(self.name, process,
                                       self._sweep, self._now, self.counters)

    @property
    def nonce_key(self):
        """The group's nonce key (set it before :meth:`start`, or name its
        file in ``[sod_trust] nonce_key_file``)."""
        return self.challenger.nonce_key

    @nonce_key.setter
    def nonce_key(self, key):
        self.challenger.nonce_key = key

    # -- life cycle --------------------------------------------------------

    def start(self):
        trust_conf = self.conf.sod_trust
        self._ear_signer = ear.optional_signer(   # a bad key stops the start
            self.conf.sod_attestation.signing_key_file)
        if self.catalog is None:
            self.catalog = catalog_conf.load_catalog(self.conf)
        self.challenger.load_keys()
        self.enrollments.clear()
        verifier = verify.Verifier(
            references_mod.References.load(trust_conf.reference_values_file),
            trust_conf.max_evidence_bytes, trust_conf.nonce_max_age,
            self.nonce_key)
        if self.metrics_exporter.enabled:
            verifier = self.metrics.timed_verifier(verifier)
        self.recorder.start(self.catalog, verifier)
        self.metrics_exporter.start()
        if self._transport is None:
            self._transport = rpc.get_transport(self.conf)
        self.challenger.start(agent_rpcapi.AgentAPI(self._transport,
                                                    trust_conf.agent_topic))
        self._notify_transport = rpc.get_notification_transport(self.conf)
        self._notifier = oslo_messaging.Notifier(
            self._notify_transport,
            publisher_id='sod-trust-monitor.%s' % self.name,
            driver='messagingv2', topics=[trust_conf.notification_topic])
        self.batcher.start()
        interval = trust_conf.stale_check_interval
        self.tg.add_timer_args(interval, self.batcher.sweep_due,
                               initial_delay=interval)
        self._server = rpc.get_server(
            self._transport, self.topic, self.name,
            [endpoint.MonitorEndpoint(self.batcher, self.challenger,
                                      self.enroll)])
        self._server.start()
        self.challenger.challenge_all(self.database.call(db_enrollment.get_all))
        LOG.info('trust monitor %(name)s started on topic %(topic)s',
                 {'name': self.name, 'topic': self.topic})

    def stop(self):
        if self._server is not None:
            self._server.stop()
            self._server.wait()
            self._server = None
        self.tg.stop_timers(wait=True)
        self.batcher.stop()
        self.metrics_exporter.stop()
        self.flush_alerts()
        if self._notify_transport is not None:
            self._notify_transport.cleanup()
            self._notify_transport = None
        if self._own_transport and self._transport is not None:
            self._transport.cleanup()
            self._transport = None

    def add_listener(self, callback):
        """Call ``callback(change)`` on every state change, in process.

        ``change`` is the notification payload: host, old_state, new_state,
        reason, architecture. Runs in the monitor's thread: keep it short.
        """
        self._listeners.append(callback)

    def serves(self, host, architecture):
        return ((not self.hosts or host in self.hosts)
                and (not self.architectures
                     or architecture.lower() in self.architectures))

    def _now(self):
        return self.clock()

    # -- the stale sweep and alerts -----------------------------------------

    def check_stale(self, now=None):
        """Mark this monitor's hosts with old evidence ``unreachable``."""
        return self.recorder.check_stale(now)

    def _sweep(self, now=None):
        """Mark stale hosts as of ``now`` (when the sweep was due; the
        reports received until then are processed first); flush alerts."""
        try:
            self.check_stale(now)
            self.flush_alerts()
        except Exception:
            LOG.exception('trust monitor %s: stale check failed', self.name)

    def flush_alerts(self):
        """Store and publish the rejected-report counts of the period."""
        if self._notifier is None:
            return {}
        return self.alerts.flush(
            lambda counts: self.database.call(evidence_rejections.add, counts),
            lambda payload: self._notify(alerts.EVIDENCE_REJECTED_EVENT,
                                         payload))

    # -- notifications -----------------------------------------------------

    def _publish(self, host, old, new, reason, architecture):
        change = {'host': host, 'old_state': old, 'new_state': new,
                  'reason': reason, 'architecture': architecture}
        signer = getattr(self, '_ear_signer', None)
        if signer is not None:
            try:
                # The row as recorded (its capabilities and evidence time).
                row = self.database.call(db_api.host_get, host)
                change['ear'] = ear.issue(
                    signer, host, new, reason, row and row.capability_mask,
                    row and row.last_evidence_at, self._now())
            except Exception:
                LOG.exception('%(host)s: no EAR for the trust change',
                              {'host': host})
        self._notify(trust.TRUST_CHANGED_EVENT, change)
        for callback in list(self._listeners):
            try:
                callback(change)
            except Exception:
                LOG.exception('%(host)s: trust change listener failed',
                              {'host': host})

    def _notify(self, event, payload):
        try:
            self._notifier.info({}, event, payload)
        except Exception as exc:
            LOG.warning('%(host)s: %(event)s not published: %(exc)s',
                        {'host': payload.get('host'), 'event': event,
                         'exc': exc})

    # -- enrollment --------------------------------------------------------

    def enroll(self, host, architecture, public_key, proof):
        """Enroll ``public_key`` with a one-time token's proof; never raises."""
        if not hostname.is_valid(host):
            LOG.warning('enrollment refused: invalid host name')
            return False
        try:
            # Stored in its one spelling (one key, one host); the proof is
            # over the text the agent sent.
            canonical = keys.canonical_public_key(public_key)
            self.database.call(
                db_enrollment.enroll_with_token, host, str(architecture),
                canonical, lambda token_key, arch: keys.check_enrollment_proof(
                    token_key, proof, host, arch, public_key))
        except (ValueError, TypeError, AttributeError) as exc:
            LOG.warning('%(host)s: enrollment refused: %(reason)s',
                        {'host': host, 'reason': exc})
            return False
        except Exception:
            LOG.exception('%(host)s: enrollment failed', {'host': host})
            return False
        self.enrollments.forget(host)
        LOG.info('%(host)s: key enrolled with a one-time token', {'host': host})
        self.challenger.request(host)
        return True
