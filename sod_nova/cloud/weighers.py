"""A deterministic weigher for the embedded cloud's demo and tests.

Nova's default weighers spread VMs by free RAM and break ties at random, so
the same scenario could tell a different story on every run. The embedded
cloud instead prefers hosts in the order the scenario lists them (like Nova's
own ``HostNameWeigher`` test fixture), so a run is repeatable and the filter,
not chance, decides which hosts are possible at all.
"""

from nova.scheduler import weights

#: Host names in order of preference (set by the embedded cloud; one cloud
#: runs per process).
ORDER = []


def prefer(hosts):
    ORDER[:] = list(hosts)


class HostOrderWeigher(weights.BaseHostWeigher):
    """Earlier hosts in :data:`ORDER` weigh more; unlisted hosts weigh 0."""

    def _weigh_object(self, host_state, weight_properties):
        try:
            return len(ORDER) - ORDER.index(host_state.host)
        except ValueError:
            return 0
