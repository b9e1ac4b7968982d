"""A simulated host of any catalogue architecture (``[trust] architecture``).

Lets the embedded cloud and the tests run hosts of every Table III row with
the same evidence path: a golden measured boot and a generic violation
counter.
"""

from sod_nova.trust.backends import base


class SimulatedBackend(base.GoldenBootBackend):
    COUNTER = 'violations'
