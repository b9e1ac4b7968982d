"""Client side of the monitor's RPC API (used by the agents).

Every method is a cast: an agent must never block on a monitor that is down.
API version history: see doc/source/contributor/trust-plane.rst.
"""

from sod_nova.trust import rpc


class MonitorAPI:

    VERSION = '1.0'

    def __init__(self, transport, topic):
        self.client = rpc.get_client(transport, topic, self.VERSION)

    def report_evidence(self, envelope):
        """Send a signed evidence envelope (see :mod:`sod_nova.trust.evidence`)."""
        self.client.cast({}, 'report_evidence', envelope=envelope)

    def request_challenge(self, host, boot_id):
        """Ask for a nonce; the monitor answers with an immediate challenge."""
        self.client.cast({}, 'request_challenge', host=host, boot_id=boot_id)

    def enroll(self, host, architecture, public_key, proof):
        """Enroll ``public_key`` for ``host`` with a one-time token's proof."""
        self.client.cast({}, 'enroll', host=host, architecture=architecture,
                         public_key=public_key, proof=proof)
