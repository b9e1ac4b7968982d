"""One agent process of the fleet: many hosts' agents on two connections.

Each host is a :class:`sod_nova.cloud.agents.SimulatedAgent` (the production
agent's protocol: the group's signed challenges, one nonce a report, the
report signed with the host's own key, sent with the monitor's rpcapi) on a
simulated HyperWall platform. What makes it cheap: no RPC server and no timer
per host. One queue of this process is bound to every host's challenge
routing key (``<agent_topic>.<host>``, where the monitor's
``prepare(server=host)`` cast goes), drained on one kombu connection; one
thread runs every host's periodic report; the reports go out on one
oslo.messaging transport.

Run as ``python -m benchmarks.fleet SPEC.json``; the controller
(:mod:`.cluster`) drives it with one JSON command a line on stdin, answered
on stdout.
"""

import heapq
import json
import random
import sys
import threading
import time
import uuid

import kombu
from oslo_messaging._drivers import common as driver_common

from benchmarks.fleet import hosts as hosts_mod
from sod_nova.cloud import agents as cloud_agents
import sod_nova.conf
from sod_nova.trust import challenges
from sod_nova.trust import nonces
from sod_nova.trust import rpc
from sod_nova.trust.backends import hyperwall
from sod_nova.trust.monitor import rpcapi as monitor_rpcapi


class FleetAgent(cloud_agents.SimulatedAgent):
    """A host's agent whose challenges and timer its process provides."""

    def begin(self, monitor):
        """What :meth:`TrustAgent.start` does, but the server and timer:
        a new boot, then ask the group for a first nonce."""
        with self._lock:
            self.boot_id = uuid.uuid4().hex
            self.sequence = self._acked = 0
            self._nonce = self._last_request = None
            self._want = True
        self._monitor = monitor
        self._report(force=True)


class ChallengeQueue:
    """Every host's challenges through one queue on one connection.

    The monitor casts a challenge to exchange ``sod_nova`` with routing key
    ``<agent_topic>.<host>``; the queue is bound to each host's key and the
    routing key of a delivery names the host.
    """

    def __init__(self, url, topic, name, agents):
        # kombu's name for the AMQP transport oslo.messaging calls rabbit.
        self._url = 'amqp://' + url.split('://', 1)[1]
        self._prefix = topic + '.'
        self._name = name
        self._agents = agents
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True,
                                        name='challenges')
        self.received = 0
        self.unknown = 0
        self._failed = None

    def start(self):
        self._thread.start()
        self._ready.wait()
        if self._failed is not None:
            raise self._failed

    def _run(self):
        try:
            self._consume()
        except Exception as exc:
            self._failed = exc
            raise
        finally:
            self._ready.set()

    def stop(self):
        self._stop.set()
        self._thread.join()

    def _consume(self):
        exchange = kombu.Exchange(rpc.EXCHANGE, type='topic', durable=False,
                                  auto_delete=False)
        queue = kombu.Queue(self._name, exclusive=True, auto_delete=True,
                            bindings=[kombu.binding(exchange, self._prefix + h)
                                      for h in self._agents])
        with kombu.Connection(self._url) as conn:
            with conn.Consumer(queue, callbacks=[self._on_message],
                               no_ack=True, accept=['json']):
                self._ready.set()
                while not self._stop.is_set():
                    try:
                        conn.drain_events(timeout=0.5)
                    except TimeoutError:
                        pass

    def _on_message(self, body, message):
        self.received += 1
        host = message.delivery_info['routing_key'][len(self._prefix):]
        agent = self._agents.get(host)
        msg = driver_common.deserialize_msg(body)
        if agent is None or msg.get('method') != 'challenge':
            self.unknown += 1
            return
        args = msg.get('args', {})
        agent.challenge(args.get('nonce'), args.get('immediate'),
                        args.get('ack'), args.get('credential'),
                        args.get('signature'))


class Periods:
    """One thread that runs each host's periodic report (and its start)."""

    def __init__(self, agents, interval, monitor):
        self._agents = agents
        self._interval = interval
        self._monitor = monitor
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True,
                                        name='periods')

    def start(self):
        self._thread.start()

    def stop(self):
        self._stop.set()
        self._thread.join()

    def _run(self):
        # Hosts start spread over one interval, as a real fleet's boots are.
        now = time.monotonic()
        due = [(now + random.uniform(0, self._interval), h, True)
               for h in self._agents]
        heapq.heapify(due)
        while not self._stop.is_set() and due:
            at, host, first = due[0]
            wait = at - time.monotonic()
            if wait > 0:
                self._stop.wait(min(wait, 0.5))
                continue
            heapq.heapreplace(due, (at + self._interval, host, False))
            agent = self._agents[host]
            if first:
                agent.begin(self._monitor)
            else:
                agent._periodic_report()


class AgentProcess:
    """The hosts of one process, their queue and their periods."""

    def __init__(self, spec):
        conf = sod_nova.conf.CONF
        conf(['--config-file', spec['config_file']], project='sod_nova')
        self.conf = conf
        trust = conf.sod_trust
        seed = bytes.fromhex(spec['seed'])
        challenge_keys = [challenges.signing_key(
            nonces.load_key(spec['nonce_key_file'])).public_key()]
        self.transport = rpc.get_transport(conf)
        self.monitor = monitor_rpcapi.MonitorAPI(self.transport,
                                                 trust.monitor_topic)
        self.agents = {
            host: FleetAgent(conf, host, hyperwall.HyperWallBackend(),
                             hosts_mod.private_key(seed, host),
                             transport=self.transport,
                             challenge_keys=challenge_keys)
            for host in spec['hosts']}
        self.queue = ChallengeQueue(conf.transport_url, trust.agent_topic,
                                    spec['name'], self.agents)
        self.periods = Periods(self.agents, trust.report_interval, self.monitor)

    def start(self):
        self.queue.start()
        self.periods.start()

    def stop(self):
        self.periods.stop()
        self.queue.stop()
        self.transport.cleanup()

    # -- injections: each answers the wall-clock time it happened ----------

    def attack(self, host):
        at = time.time()
        self.agents[host].backend.start_attack()
        return at

    def silence(self, host):
        at = time.time()
        self.agents[host].silence()
        return at

    def forge(self, host):
        at = time.time()
        self.agents[host].forge()
        return at

    def replay(self, host):
        # The last report, as someone on the bus records and resends it: an
        # older one may quote a nonce past nonce_max_age, which the group
        # rightly treats as late, not as a replay.
        agent = self.agents[host]
        at = time.time()
        agent.replay(agent.sent[-1])
        return at

    def stats(self):
        agents = self.agents.values()
        dropped = sum(sum(a.dropped_challenges.values()) for a in agents)
        return {'reports': sum(a.sequence for a in agents),
                'challenges': self.queue.received,
                'unknown': self.queue.unknown, 'dropped': dropped}

    def serve(self, lines, out):
        """Answer each command line until ``stop`` or the end of input."""
        commands = {'attack': self.attack, 'silence': self.silence,
                    'forge': self.forge, 'replay': self.replay}
        for line in lines:
            cmd = json.loads(line)
            if cmd['cmd'] == 'stop':
                break
            try:
                if cmd['cmd'] == 'stats':
                    answer = self.stats()
                else:
                    answer = {'at': commands[cmd['cmd']](cmd['host'])}
            except Exception as exc:
                answer = {'error': '%s: %s' % (type(exc).__name__, exc)}
            out.write(json.dumps(answer) + '\n')
            out.flush()


def main(spec_path):
    with open(spec_path) as f:
        spec = json.load(f)
    process = AgentProcess(spec)
    process.start()
    sys.stdout.write(json.dumps({'ready': len(process.agents)}) + '\n')
    sys.stdout.flush()
    try:
        process.serve(sys.stdin, sys.stdout)
    finally:
        process.stop()
