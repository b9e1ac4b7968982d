"""Fix Nova's concurrency mode before any test module imports oslo.messaging.

``pytest tests`` collects unit tests (which import sod_nova.trust and so
oslo.messaging) before functional ones; oslo.messaging would select
oslo.service's eventlet backend for good and the embedded Nova could then not
run on native threads (see sod_nova.cloud._bootstrap).
"""

from sod_nova.cloud import _bootstrap

_bootstrap.select_concurrency_mode()
