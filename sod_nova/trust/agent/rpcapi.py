"""Client side of the agent's RPC API (used by the monitor).

Messages go to one agent: ``prepare(server=host)``. API version history:
see doc/source/contributor/trust-plane.rst.
"""

from sod_nova.trust import rpc


class AgentAPI:

    VERSION = '1.2'

    def __init__(self, transport, topic):
        self.client = rpc.get_client(transport, topic, self.VERSION)

    def challenge(self, host, nonce, immediate, ack=None, credential=None,
                  signature=None):
        """Give ``host`` the nonce its next report must quote.

        ``immediate``: report now (a fresh attestation is wanted, e.g. after
        the agent or the monitor restarted) rather than at the next period.
        ``ack``: ``{'boot_id', 'sequence'}`` of the report just accepted.
        ``credential``: ``{'blob', 'secret'}`` (base64) for the host's TPM to
        activate.
        ``signature``: the group's signature over all of the above.
        """
        self.client.prepare(server=host, version='1.2').cast(
            {}, 'challenge', nonce=nonce, immediate=immediate, ack=ack,
            credential=credential, signature=signature)
