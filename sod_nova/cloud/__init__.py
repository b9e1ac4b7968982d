"""The embedded cloud: real Nova services in-process, for the demo, tests and benchmarks.

:mod:`sod_nova.cloud.nova` is the entry point to the Nova part
(:class:`~sod_nova.cloud.nova.EmbeddedNova`). Importing it fixes Nova's
concurrency mode for the whole process, see :mod:`sod_nova.cloud._bootstrap`;
importing this package itself has no side effect.
"""
