"""Benchmark: the reaction benchmark with the agents and the monitor on RabbitMQ.

The same rounds as :mod:`benchmarks.reaction` (an attack an agent reports, to
the manager's ``os-migrateLive`` request), with ``[DEFAULT] transport_url``
pointing at a real RabbitMQ on loopback (Debian's ``rabbitmq-server``,
started for the run by :mod:`sod_nova.cloud.services`): the agents' evidence
reports and the monitor's challenges and acknowledgements travel through the
broker (the monitor hands its trust change to the in-process manager as in
:mod:`benchmarks.reaction`, and publishes it on the broker too). Nova's own
services stay on the in-memory transport (they are the embedded cloud's), and
sod-nova's database on the embedded cloud's SQLite file: on MariaDB the
monitor rejects reports with "replayed or unknown nonce" (issue 13 reworks
the nonces).

Value: p99 over ROUNDS attacks, in ms. Baseline: the paper's OpenStack
triggering delay, 2.33 s. Goal: p99 <= 115 ms (0.05 x baseline, issue 14).
"""

from benchmarks import reaction
from sod_nova.cloud import services


def run(rounds=reaction.ROUNDS) -> dict:
    rabbit = services.RabbitMQ().start()
    try:
        return reaction.run(rounds, name='reaction-rabbit', conf_overrides={
            (None, 'transport_url'): rabbit.url})
    finally:
        rabbit.close()


if __name__ == '__main__':
    import json
    print(json.dumps(run(), indent=2))
