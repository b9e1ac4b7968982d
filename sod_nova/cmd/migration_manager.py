"""``sod-migration-manager``: keeps VMs on servers that satisfy them.

Several may run (``[sod_relocation] leader_election``): exactly one acts, the
others are standbys (:mod:`sod_nova.relocation.leader`).
"""

import sys

from keystoneauth1 import exceptions as ks_exc

from sod_nova.catalog import CatalogError
from sod_nova.cmd import common
import sod_nova.conf
from sod_nova.db import api as db_api
from sod_nova.relocation import compute
from sod_nova.relocation import leader
from sod_nova.relocation import service

CONF = sod_nova.conf.CONF


def main(argv=None):
    common.parse_args('sod-migration-manager', argv)
    if CONF.sod_relocation.listen_notifications:
        common.require_transport('sod-migration-manager', rpc_transport=False)
    try:
        db_api.configure(CONF)
        manager, listener = service.build(CONF)
    except (CatalogError, db_api.DatabaseConfigError, compute.NovaError,
            ks_exc.ClientException) as exc:
        sys.exit('sod-migration-manager: %s' % exc)
    leadership = None
    if CONF.sod_relocation.leader_election:
        leadership = leader.Leadership(CONF)
    return common.serve('sod-migration-manager', service.ManagerService(
        manager, listener, leadership, metrics=service.metrics(CONF)))


if __name__ == '__main__':
    sys.exit(main())
