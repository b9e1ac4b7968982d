"""The agent's RPC endpoint: translates messages into service calls."""

import oslo_messaging

from sod_nova.trust.agent import rpcapi


class AgentManager:

    target = oslo_messaging.Target(version=rpcapi.AgentAPI.VERSION)

    def __init__(self, service):
        self.service = service

    def challenge(self, ctxt, nonce, immediate=False, ack=None,
                  credential=None, signature=None):
        self.service.challenge(nonce, immediate, ack, credential, signature)
