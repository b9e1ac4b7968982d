"""The monitor's RPC endpoint: translates messages into service calls."""

import oslo_messaging

from sod_nova.trust.monitor import rpcapi


class MonitorManager:

    target = oslo_messaging.Target(version=rpcapi.MonitorAPI.VERSION)

    def __init__(self, service):
        self.service = service

    def report_evidence(self, ctxt, envelope):
        self.service.submit(envelope)

    def request_challenge(self, ctxt, host, boot_id=None):
        self.service.request_challenge(host, limited=True)

    def enroll(self, ctxt, host, architecture, public_key, proof):
        self.service.enroll(host, architecture, public_key, proof)
