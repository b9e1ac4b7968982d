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


@pytest.fixture
def metrics():
    """What a Prometheus endpoint says: ``metrics.port()`` a free loopback
    port; ``metrics.scrape(port)`` one scrape of ``/metrics`` as
    ``{(name, frozenset(labels.items())): value}``, parsed with
    prometheus-client's own parser."""
    import socket
    import types
    import urllib.request

    from prometheus_client import parser

    def port():
        with socket.socket() as sock:
            sock.bind(('127.0.0.1', 0))
            return sock.getsockname()[1]

    def scrape(at):
        with urllib.request.urlopen('http://127.0.0.1:%d/metrics' % at,
                                    timeout=60) as response:
            text = response.read().decode()
        return {(s.name, frozenset(s.labels.items())): s.value
                for family in parser.text_string_to_metric_families(text)
                for s in family.samples}

    return types.SimpleNamespace(port=port, scrape=scrape)
