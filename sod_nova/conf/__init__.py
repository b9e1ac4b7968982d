"""oslo.config options of sod-nova, one module per group.

``CONF`` is oslo.config's global object, as in Nova: oslo.messaging registers
some of its own options only there.
"""

from oslo_config import cfg

from sod_nova.conf import api
from sod_nova.conf import attestation
from sod_nova.conf import audit
from sod_nova.conf import catalog
from sod_nova.conf import database
from sod_nova.conf import metrics
from sod_nova.conf import nova_client
from sod_nova.conf import placement_client
from sod_nova.conf import relocation
from sod_nova.conf import scheduler
from sod_nova.conf import trust
from sod_nova.conf import upgrade_check

CONF = cfg.CONF

_MODULES = [catalog, database, scheduler, trust, nova_client, relocation,
            upgrade_check, api, placement_client, audit, metrics,
            attestation]

for _module in _MODULES:
    _module.register_opts(CONF)
