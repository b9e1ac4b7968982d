"""A fleet of simulated trust agents against a real monitor group, at scale.

For ``python -m benchmarks trust-scale`` and the small-size functional test:
a few processes each serve many hosts' agents (the production agent's
protocol code, real Ed25519 keys and group nonces, simulated platforms, no
Nova), reporting over RabbitMQ to real ``sod-trust-monitor`` processes that
share MariaDB. Nothing here is used by the production services. The design:
``doc/source/contributor/trust-fleet.rst``.
"""
