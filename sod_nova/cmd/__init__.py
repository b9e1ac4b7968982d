"""sod-nova's console scripts.

Their services run on native threads (oslo.messaging's ``threading``
executor) and must never be eventlet-monkey-patched, so oslo.service's
backend defaults to ``threading`` here, before anything imports
oslo.messaging (which imports ``oslo_service.service`` and so selects the
backend for good). A default, not a choice: ``sod-nova simulate`` fixes the
embedded Nova's mode first (:mod:`sod_nova.cloud._bootstrap`), eventlet
included; :func:`sod_nova.cmd.common.serve` insists on ``threading``.
"""

from oslo_service import backend

backend.register_backend_default_hook(lambda: backend.BackendType.THREADING)
