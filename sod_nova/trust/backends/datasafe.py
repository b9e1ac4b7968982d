"""DataSafe (paper [19]): blocked tagged-data leaks as runtime evidence.

DataSafe tags sensitive data in hardware and blocks it from leaving through
unvetted applications; a host under attack reports how many leaks of tagged
data it blocked.
"""

from sod_nova.trust.backends import simulated


class DataSafeBackend(simulated.GoldenBootBackend):
    ARCHITECTURE = 'DataSafe'
    COUNTER = 'blocked_leaks'
