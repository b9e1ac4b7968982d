"""Client side of the agent's RPC API (used by the monitor).

Messages go to one agent: ``prepare(server=host)``.

API version history:

* 1.0 - Initial version: ``challenge``.
* 1.1 - ``challenge`` takes ``credential`` (TPM credential activation).
"""

from sod_nova.trust import rpc


class AgentAPI:

    VERSION = '1.1'

    def __init__(self, transport, topic):
        self.client = rpc.get_client(transport, topic, self.VERSION)

    def challenge(self, host, nonce, immediate, ack=None, credential=None):
        """Give ``host`` the nonce its next report must quote.

        ``immediate``: report now (a fresh attestation is wanted, e.g. after
        the agent or the monitor restarted) rather than at the next period.
        ``ack``: ``{'boot_id', 'sequence'}`` of the report just accepted.
        ``credential``: ``{'blob', 'secret'}`` (base64) for the host's TPM to
        activate (needs 1.1; not sent otherwise).
        """
        kwargs = {'nonce': nonce, 'immediate': immediate, 'ack': ack}
        version = '1.0'
        if credential is not None:
            version = '1.1'
            kwargs['credential'] = credential
        self.client.prepare(server=host, version=version).cast(
            {}, 'challenge', **kwargs)
