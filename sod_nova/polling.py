"""Waiting until a condition holds: one polling rule, on tenacity.

The embedded cloud waits for Nova (a server ACTIVE, a migration finished),
for the services it starts (RabbitMQ, MariaDB, swtpm answering) and, in the
tests and the demo, for the trust fleet. Each of those is "call this until it
returns something true, every so often, for at most so long"; tenacity states
it, and this module is the one place that says how.
"""

import operator
import time

import tenacity


def until(predicate, timeout, interval, clock=time.monotonic, sleep=time.sleep):
    """Call ``predicate()`` every ``interval`` s until its value is true.

    :returns: that value, or the last (false) value after ``timeout`` s
        (as ``clock`` counts them, the predicate's own time included).
    An exception of ``predicate`` ends the wait at once and propagates.
    """
    deadline = clock() + timeout
    return tenacity.Retrying(
        retry=tenacity.retry_if_result(operator.not_),
        stop=lambda state: clock() >= deadline,
        wait=tenacity.wait_fixed(interval),
        sleep=sleep,
        retry_error_callback=lambda state: state.outcome.result(),
    )(predicate)
