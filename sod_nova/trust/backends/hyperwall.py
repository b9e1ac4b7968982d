"""HyperWall (paper [8]): memory-protection violations as runtime evidence.

The paper's prototype sends trust evidence for HyperWall only, as "the number
of memory violations": hardware that blocks hypervisor or DMA accesses to a
VM's protected memory counts the accesses it blocked.
"""

from sod_nova.trust.backends import simulated


class HyperWallBackend(simulated.GoldenBootBackend):
    ARCHITECTURE = 'HyperWall'
    COUNTER = 'memory_violations'
