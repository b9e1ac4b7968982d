"""sod-nova's measured goals, each a ratio against a baseline run in the same process.

Run from the repository root: ``python -m benchmarks [NAME ...] [--format json]``
(or ``tox -e bench``). Never timed assertions in tests: numbers live here.
"""
