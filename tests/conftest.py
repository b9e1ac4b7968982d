"""Fix Nova's concurrency mode before any test module imports oslo.messaging.

``pytest tests`` collects unit tests (which import sod_nova.trust and so
oslo.messaging) before functional ones; oslo.messaging would select
oslo.service's eventlet backend for good and the embedded Nova could then not
run on native threads (see sod_nova.cloud._bootstrap).
"""

from sod_nova.cloud import _bootstrap

_bootstrap.select_concurrency_mode()


import pytest  # noqa: E402


@pytest.fixture(scope='session', autouse=True)
def _basetemp_outside_nova(tmp_path_factory):
    """Fix pytest's base temporary directory before any test runs: Nova's
    fixtures point ``tempfile`` at a directory of their own that they delete
    afterwards, and a ``tmp_path`` first asked for while one is active would
    put every later test's directory inside it."""
    tmp_path_factory.getbasetemp()
