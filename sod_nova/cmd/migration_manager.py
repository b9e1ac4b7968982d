"""``sod-migration-manager``: keeps VMs on servers that satisfy them."""

import signal
import sys
import threading

from keystoneauth1 import exceptions as ks_exc
from oslo_log import log as logging

from sod_nova import version
from sod_nova.catalog import CatalogError
import sod_nova.conf
from sod_nova.db import api as db_api
from sod_nova.relocation import compute
from sod_nova.relocation import service

CONF = sod_nova.conf.CONF


def main(argv=None):
    logging.register_options(CONF)
    CONF(sys.argv[1:] if argv is None else argv, project='sod_nova',
         prog='sod-migration-manager', version=version.version_string())
    logging.setup(CONF, 'sod-migration-manager')
    try:
        db_api.configure(CONF)
        manager, listener = service.build(CONF)
    except (CatalogError, db_api.DatabaseConfigError, compute.NovaError,
            ks_exc.ClientException) as exc:
        sys.exit('sod-migration-manager: %s' % exc)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    manager.start(listener)
    try:
        done.wait()
    except KeyboardInterrupt:
        pass
    manager.stop()
    return 0


if __name__ == '__main__':
    sys.exit(main())
