"""In-process harness: one monitor and one agent per host, sharing a transport.

For the embedded cloud, the tests and the benchmarks: ``add_host`` enrolls a
host's new key as an operator would and picks its architecture's backend;
``start`` runs the monitor and the agents (the production services with the
simulator's hooks). The database must be synced.
"""

import threading

from sod_nova import polling
from sod_nova.cloud import agents as agents_mod
from sod_nova.cloud import monitors
from sod_nova.db import api as db_api
from sod_nova.db import enrollment as db_enrollment
from sod_nova.trust import backends
from sod_nova.trust import challenges
from sod_nova.trust import keys
from sod_nova.trust import nonces
from sod_nova.trust import rpc

#: Architectures with a dedicated backend; the others use ``simulated``.
BACKEND_FOR = {'hyperwall': 'hyperwall', 'datasafe': 'datasafe',
               'tpm': 'simulated-tpm'}


def backend_for(architecture):
    """The backend plugin of a host of ``architecture``."""
    name = BACKEND_FOR.get(architecture.lower(), 'simulated')
    return backends.load(name, architecture)


class Fleet:
    """A monitor and agents in one process over one oslo.messaging transport."""

    def __init__(self, conf, catalog=None, transport=None, **monitor_kwargs):
        self.conf = conf
        db_api.configure(conf)
        # Getting a transport does not connect (oslo.messaging connects on
        # first use), so this is no blocking work.
        self._own_transport = transport is None
        self.transport = transport or rpc.get_transport(conf)
        self._monitor_kwargs = monitor_kwargs
        self.monitor = monitors.SimulatedMonitor(
            conf, catalog=catalog, transport=self.transport, **monitor_kwargs)
        # The group's nonce key (its file's, else one of this fleet's), and
        # the challenge key the agents verify the monitor's challenges with.
        trust = conf.sod_trust
        self.monitor.nonce_key = (nonces.load_key(trust.nonce_key_file)
                                  if trust.nonce_key_file else nonces.generate_key())
        self.challenge_keys = [
            challenges.signing_key(self.monitor.nonce_key).public_key()]
        self.running = False
        self.agents = {}

    def add_host(self, host, architecture, enroll=True, start=None,
                 backend=None, tpm_ek=None, platform=None):
        """Create ``host``'s agent (key enrolled unless ``enroll`` is False).

        ``start``: start the agent now (default: when the fleet is running).
        ``backend``: the evidence backend (default: the simulation of
        ``architecture``). A backend with a TPM is enrolled with its EK, or
        with ``tpm_ek`` (base64 TPMT_PUBLIC) when given (e.g. another TPM's).
        ``platform``: the agent's libvirt reader, if any.
        """
        backend = backend or backend_for(architecture)
        key = keys.generate_private_key()
        if enroll:
            ek = tpm_ek or backend.identity().get('tpm_ek')
            db_enrollment.enroll_key(db_api.Context(), host,
                                     backend.architecture_type,
                                     keys.public_key_text(key), tpm_ek=ek)
        agent = agents_mod.SimulatedAgent(
            self.conf, host, backend, key, transport=self.transport,
            monitor_topic=self._monitor_kwargs.get('topic'), platform=platform,
            challenge_keys=self.challenge_keys)
        self.agents[host] = agent
        if start or (start is None and self.running):
            agent.start()
        return agent

    def start(self, agents=True):
        """Start the monitor, and the agents unless ``agents`` is False."""
        self.monitor.start()
        self.running = True
        if agents:
            for agent in self.agents.values():
                agent.start()
        return self

    def stop(self):
        """Stop every agent and the monitor, in parallel: an oslo.messaging
        server takes up to a second to let its idle worker threads go."""
        threads = [threading.Thread(target=s.stop)
                   for s in [*self.agents.values(), self.monitor]]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        self.running = False

    def cleanup(self):
        """Stop, and release the transport if the fleet created it."""
        self.stop()
        if self._own_transport:
            self.transport.cleanup()

    def agent(self, host):
        return self.agents[host]

    def backend(self, host):
        return self.agents[host].backend


def wait_for(predicate, timeout=10.0, interval=0.01):
    """Poll ``predicate`` until true; returns its last value (for tests/demo)."""
    return polling.until(predicate, timeout, interval)
