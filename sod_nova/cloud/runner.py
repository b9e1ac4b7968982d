"""Run a scenario on the embedded cloud and report what happened.

The result follows ``sod-nova simulate --format json``
(``scenarios/result.schema.json``). Events act where a real cloud would be
touched (backends, the message bus, Nova's API), never on sod-nova's tables
directly. See doc/source/contributor/simulator.rst.
"""

import time

from sod_nova.catalog import guest as guest_mod
from sod_nova.cloud import attacks
from sod_nova.cloud import embedded
from sod_nova.cloud import nova as nova_mod
from sod_nova.db import api as db_api
from sod_nova.db import relocation as relocation_db
from sod_nova.db import trust_states
from sod_nova.policy import parse
from sod_nova.relocation import audit_events
from sod_nova.relocation import triggers


class ScenarioRunner:
    """Runs one :class:`~sod_nova.cloud.scenario.Scenario`."""

    def __init__(self, scenario, relocation=True, progress=None, conf_overrides=None,
                 tpm_hosts='auto'):
        self.scenario = scenario
        self.tpm_hosts = tpm_hosts
        self.conf_overrides = conf_overrides
        self.relocation = relocation
        self.progress = progress or (lambda message: None)
        self.cloud = None
        self.ids = {}            # VM name -> Nova server id
        self.rejected = {}       # VM name -> reason it never booted
        self.boots = {}          # VM name -> {'host', 'status', 'seconds'}
        self.flavors = {}        # frozenset of extra specs -> flavor id
        self.guests = {}         # VM name -> {'guest', 'memory_encrypted'}
        self.images = {}         # frozenset of image properties -> image id

    # -- the run -------------------------------------------------------------

    def run(self):
        """Run the scenario; return the result dict."""
        started = time.monotonic()
        with embedded.EmbeddedCloud(
                relocation=self.relocation, conf_overrides=self.conf_overrides,
                tpm_hosts=self.tpm_hosts) as cloud:
            self.cloud = cloud
            self._changes = []
            cloud.fleet.monitor.add_listener(self._changes.append)
            for host in self.scenario.hosts:
                self.progress('starting %s (%s)' % (host.name, host.architecture))
                cloud.add_host(host.name, host.architecture)
            for vm in self.scenario.vms:
                self._boot(vm)
            cloud.settle()
            setup_changes = self._trust_changes(0)
            setup_rejections = self._rejections({})
            steps = []
            for index, event in enumerate(self.scenario.events):
                self.progress('event %d: %s' % (index + 1, _describe(event.raw)))
                steps.append(self._step(event))
            result = self._final(steps)
            result['setup_trust_changes'] = setup_changes
            result['setup_rejections'] = setup_rejections
            result['tpm_hosts'] = 'swtpm' if cloud.swtpm_hosts else 'simulated'
            result['concurrency_mode'] = nova_mod.CONCURRENCY_MODE
            result['seconds'] = round(time.monotonic() - started, 2)
            self.cloud = None
        return result

    def _boot(self, vm):
        """Boot ``vm`` through Nova's API, with a flavor that has its extra
        specs and an image that has what Nova needs for such a guest; or
        record why not (REJECTED): the request is refused, or no
        architecture of the cloud protects it as it is launched."""
        cloud = self.cloud
        try:
            request = parse.parse_request(vm.security, cloud.catalog.packages)
        except parse.PolicyError as exc:
            self.rejected[vm.name] = str(exc)
            return
        image_properties = nova_mod.guest_image_properties(vm.extra_specs)
        guest = guest_mod.features(vm.extra_specs, image_properties)
        self.guests[vm.name] = {
            'guest': sorted(guest),
            'memory_encrypted': guest_mod.memory_encrypted(
                vm.extra_specs, image_properties)}
        present = set(cloud.architectures.values())
        if request and not cloud.catalog.satisfying(request, present, guest):
            self.rejected[vm.name] = cloud.catalog.explain(request, present, guest)
            return
        self.progress('booting %s' % vm.name)
        t0 = time.monotonic()
        server = cloud.nova.create_server(
            name=vm.name, metadata=vm.security or None,
            flavor=self._flavor(vm.extra_specs), image=self._image(image_properties))
        self.ids[vm.name] = server['id']
        self.boots[vm.name] = {'host': server.get('OS-EXT-SRV-ATTR:host'),
                               'status': server['status'],
                               'seconds': round(time.monotonic() - t0, 2)}
        if server['status'] == 'ERROR':
            self.boots[vm.name]['reason'] = (server.get('fault') or {}).get('message')

    def _flavor(self, extra_specs):
        """A flavor with these extra specs (one per distinct set, created
        through Nova's API and its extra-spec validation); None: Nova's
        default flavor."""
        if not extra_specs:
            return None
        key = frozenset(extra_specs.items())
        if key not in self.flavors:
            self.flavors[key] = self.cloud.nova.create_flavor(
                extra_specs, name='scenario-%d' % (len(self.flavors) + 1))
        return self.flavors[key]

    def _image(self, properties):
        """An image with these properties in the embedded Glance (one per
        distinct set); None: Nova's default image."""
        if not properties:
            return None
        key = frozenset(properties.items())
        if key not in self.images:
            self.images[key] = self.cloud.nova.create_image(
                properties, name='scenario-%d' % (len(self.images) + 1))
        return self.images[key]

    # -- events --------------------------------------------------------------

    def _servers(self):
        """Each booted VM of the file as Nova's API shows it, from one
        listing (a VM missing from it is read alone, which raises)."""
        nova = self.cloud.nova
        listed = nova.servers_by_id()
        return {name: listed.get(sid) or nova.get_server(sid)
                for name, sid in self.ids.items()}

    def _placement(self):
        return {name: server.get('OS-EXT-SRV-ATTR:host')
                for name, server in self._servers().items()}

    def _step(self, event):
        cloud = self.cloud
        host = event.target_host(self._placement())
        before = {r.host: (r.state, r.reason) for r in cloud.host_rows()}
        audit_mark = len(self._audit())
        change_mark = len(self._changes)
        rejected_before = self._rejections({})
        t0 = time.monotonic()
        detail = getattr(self, '_on_' + event.kind)(event, host)
        detected = time.monotonic() - t0
        settled = cloud.settle()
        unsettled = [] if settled else self._unsettled()
        audit = self._audit()
        step = {
            'event': event.raw,
            'host': host,
            'vms': self._snapshot(),
            'hosts': {h: {'state': s, 'reason': r} for h, (s, r) in sorted(
                {r.host: (r.state, r.reason) for r in cloud.host_rows()}.items())},
            'host_changes': [],
            'trust_changes': self._trust_changes(change_mark),
            'rejections': self._rejections(rejected_before),
            'migrations': self._migrations(audit[audit_mark:], audit[:audit_mark]),
            'decisions': self._decisions(audit[audit_mark:]),
            'detected_s': round(detected, 3),
            'settled_s': round(time.monotonic() - t0, 3),
            'settled': settled,
        }
        if unsettled:
            step['unsettled'] = unsettled
            self.progress('not settled, the migration manager stopped advancing: %s'
                          % '; '.join('%(vm)s %(state)s (%(trigger)s from %(from)s: '
                                      '%(reason)s)' % u for u in unsettled))
        step.update(detail or {})
        for name, (state, reason) in sorted(step_states(step).items()):
            if before.get(name, (None, None))[0] != state:
                step['host_changes'].append({'host': name, 'from': before.get(
                    name, (None,))[0], 'to': state, 'reason': reason})
        return step

    def _on_attack(self, event, host):
        self.cloud.fleet.backend(host).start_attack()
        self.cloud.wait_for_state(host, ('untrusted',))

    def _on_recover(self, event, host):
        self.cloud.fleet.backend(host).stop_attack()
        self.cloud.wait_for_state(host, ('trusted',))

    def _on_silence(self, event, host):
        self.cloud.fleet.agent(host).silence()
        self.cloud.wait_for_state(host, ('unreachable',))

    def _on_resume(self, event, host):
        self.cloud.fleet.agent(host).resume()
        self.cloud.wait_for_state(host, ('trusted',))

    def _on_forge(self, event, host):
        return attacks.bad_evidence(self.cloud, host, lambda agent: agent.forge())

    def _on_replay(self, event, host):
        return attacks.bad_evidence(self.cloud, host, lambda agent: agent.replay())

    def _on_forge_challenge(self, event, host):
        return attacks.forge_challenges(self.cloud, host, event.seconds)

    def _on_change_security(self, event, host):
        vm = event.vm
        if vm in self.rejected or vm not in self.ids:
            return {'note': '%s never booted; nothing to change' % vm}
        server = self.cloud.nova.get_server(self.ids[vm])
        metadata = {k: v for k, v in (server.get('metadata') or {}).items()
                    if not k.startswith(parse.PREFIX)}
        metadata.update(event.security)
        try:
            self.cloud.nova.set_metadata(self.ids[vm], metadata, replace=True)
        except nova_mod.OpenStackApiException as exc:
            # Nova refuses the edit (a VM it put in ERROR): the customer's
            # change did not happen; the run goes on and says why.
            return {'note': 'Nova refused the change of %s (%s): %s' % (
                vm, server['status'], _api_message(exc))}

    def _on_wait(self, event, host):
        real = self.cloud.pass_time(event.seconds)
        return {'waited': {'scenario_s': event.seconds, 'real_s': round(real, 3)}}

    def _on_add_host(self, event, host):
        self.cloud.add_host(event.host, event.architecture)

    # -- reporting -----------------------------------------------------------

    def _trust_changes(self, mark):
        """Every state change the monitor announced since ``mark``, in order
        (a step's snapshot alone would hide a host that flapped and came back)."""
        return [{'host': c['host'], 'from': c['old_state'], 'to': c['new_state'],
                 'reason': c['reason']} for c in self._changes[mark:]]

    def _unsettled(self):
        """The manager's tasks still at work: what a step that did not
        settle waited for, VM by VM."""
        if self.cloud.manager is None:
            return []
        names = self._names()
        return [{'vm': names.get(t.vm, t.vm), 'state': t.state, 'trigger': t.trigger,
                 'from': t.source_host, 'reason': t.reason}
                for t in relocation_db.RelocationStore(
                    self.cloud.conf).tasks_open(db_api.Context())
                if t.state in triggers.BUSY_STATES]

    def _rejections(self, before):
        """Reports the monitor rejected (not attributable) since
        ``before`` (an earlier result of this), by reason code."""
        counters = dict(self.cloud.fleet.monitor.counters)  # the worker adds keys
        now = {key.partition(':')[2]: n for key, n in counters.items()
               if key.startswith('rejected:')}
        return {code: n - before.get(code, 0) for code, n in sorted(now.items())
                if n > before.get(code, 0)}

    def _audit(self):
        if self.cloud.manager is None:
            return []
        return [row.data for row in relocation_db.RelocationStore(
            self.cloud.conf).audit_entries(db_api.Context())]

    def _names(self):
        return {sid: name for name, sid in self.ids.items()}

    def _migrations(self, entries, earlier=()):
        """Moves (and failed attempts) from audit entries, in order.

        A failed attempt's kind is that of the manager's call it ended (its
        ``migrate-called`` entry, among ``earlier`` entries if need be).
        """
        names, moves = self._names(), []
        called = {}     # (vm, cause) -> kind of the last call
        for e in earlier:
            if e.get('event') == audit_events.MIGRATE_CALLED and e.get('kind'):
                called[(e['vm'], e.get('cause'))] = e['kind']
        for e in entries:
            if e.get('event') == audit_events.MIGRATE_CALLED and e.get('kind'):
                called[(e['vm'], e.get('cause'))] = e['kind']
            if e.get('event') == audit_events.MOVED or (
                    e.get('event') == audit_events.RETRY and e.get('failed')):
                ok = e['event'] == audit_events.MOVED
                kind = e.get('kind') or called.get((e['vm'], e.get('cause')), 'live')
                moves.append({
                    'vm': names.get(e['vm'], e['vm']), 'from': e.get('from'),
                    'to': e.get('to') if ok else e.get('failed'),
                    'trigger': e.get('trigger'), 'kind': kind,
                    'ok': ok, 'compliant': e.get('compliant'),
                    'latency_ms': e.get('latency_ms'),
                    'duration_ms': e.get('duration_ms'),
                    'downtime_ms': e.get('downtime_ms')})
        return moves

    def _decisions(self, entries):
        """The manager's audit entries, with VM names instead of ids."""
        names = self._names()
        return [dict(e, vm=names.get(e.get('vm'), e.get('vm'))) for e in entries]

    def _snapshot(self):
        """Every VM of the file: status, host, compliance (a step's view)."""
        cloud, rows, now = self.cloud, self.cloud.fresh_rows(), db_api.now()
        servers = self._servers()
        vms = {}
        for vm in self.scenario.vms:
            if vm.name in self.rejected:
                vms[vm.name] = {'status': 'REJECTED', 'host': None, 'compliant': False}
                continue
            server = servers[vm.name]
            verdict = cloud.assess(server, rows, now)
            vms[vm.name] = {'status': server['status'],
                            'host': server.get('OS-EXT-SRV-ATTR:host'),
                            'compliant': verdict.compliant}
        return vms

    def _vm_reason(self, name, server, verdict, tasks):
        if server['status'] == 'ERROR':
            fault = server.get('fault') or {}
            return fault.get('message') or 'Nova put the VM in ERROR'
        open_task = next((t for t in reversed(tasks) if t.vm == server['id']
                          and t.state == triggers.PARKED), None)
        if open_task is not None:
            return open_task.reason
        return None if verdict.compliant else verdict.reason

    def _final(self, steps):
        cloud = self.cloud
        rows, now = cloud.fresh_rows(), db_api.now()
        tasks = (relocation_db.RelocationStore(cloud.conf).tasks(
            db_api.Context())
                 if cloud.manager is not None else [])
        hosts = {}
        for host in sorted(cloud.architectures):
            row = rows.get(host)
            hosts[host] = {'architecture': cloud.architectures[host],
                           'state': (row.state_at(now)[0] if row is not None
                                     else trust_states.UNREACHABLE),
                           'reason': row.reason if row else db_api.NO_EVIDENCE_YET,
                           'guest_features': cloud.hardware_for(
                               cloud.architectures[host]).guest_features}
        servers = self._servers()
        vms = {}
        for vm in self.scenario.vms:
            if vm.name in self.rejected:
                vms[vm.name] = {'status': 'REJECTED', 'host': None, 'compliant': False,
                                'reason': self.rejected[vm.name]}
            else:
                server = servers[vm.name]
                verdict = cloud.assess(server, rows, now)
                vms[vm.name] = {'status': server['status'],
                                'host': server.get('OS-EXT-SRV-ATTR:host'),
                                'compliant': verdict.compliant,
                                'reason': self._vm_reason(vm.name, server, verdict, tasks)}
            vms[vm.name].update(self.guests.get(vm.name) or {
                'guest': [], 'memory_encrypted': False})
        return {
            'name': self.scenario.name,
            'hosts': hosts,
            'vms': vms,
            'boots': self.boots,
            'migrations': self._migrations(self._audit()),
            'steps': steps,
            'relocation': self.relocation,
        }


def _api_message(exc):
    """The message of a Nova API error response, else the exception's text."""
    try:
        body = exc.response.json()
        return next(iter(body.values()))['message']
    except Exception:
        return ' '.join(str(exc).split())


def step_states(step):
    return {h: (v['state'], v['reason']) for h, v in step['hosts'].items()}


def _describe(raw):
    kind, body = next(iter(raw.items()))
    return '%s %s' % (kind, ', '.join('%s=%s' % kv for kv in body.items()))
