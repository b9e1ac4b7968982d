"""``python -m benchmarks.fleet SPEC.json``: one agent process of the fleet.

oslo.service's threading backend is chosen before oslo.messaging is imported
(as the service scripts do); no Nova runs here.
"""

import sys

from oslo_service import backend

backend.init_backend(backend.BackendType.THREADING)

from benchmarks.fleet import agents  # noqa: E402

agents.main(sys.argv[1])
