"""sod-nova's console scripts.

oslo.service's backend defaults to ``threading`` here, before anything
imports oslo.messaging: the services run on native threads and must never
be eventlet-monkey-patched. See doc/source/contributor/api-and-cli.rst.
"""

from oslo_service import backend

backend.register_backend_default_hook(lambda: backend.BackendType.THREADING)
