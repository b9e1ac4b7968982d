"""The monitor's RPC endpoint: translates messages into calls of its parts.

A report is only queued (:mod:`.batcher`); a challenge request goes to the
challenger, rate-limited (anyone on the bus can send one); an enrollment to
the monitor.
"""

import oslo_messaging

from sod_nova.trust.monitor import rpcapi


class MonitorEndpoint:

    target = oslo_messaging.Target(version=rpcapi.MonitorAPI.VERSION)

    def __init__(self, batcher, challenger, enroll):
        self._batcher = batcher
        self._challenger = challenger
        self._enroll = enroll

    def report_evidence(self, ctxt, envelope):
        self._batcher.submit(envelope)

    def request_challenge(self, ctxt, host, boot_id=None):
        self._challenger.request(host, limited=True)

    def enroll(self, ctxt, host, architecture, public_key, proof):
        self._enroll(host, architecture, public_key, proof)
