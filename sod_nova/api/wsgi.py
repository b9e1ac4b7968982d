"""``sod-nova-api``: the WSGI entry point (pbr ``wsgi_scripts``).

``init_application`` reads the configuration the way the other sod-nova
services do (``--config-file``, or ``/etc/sod_nova/sod_nova.conf``), sets
up logging and returns the application; under uwsgi it is
``--wsgi-file $(which sod-nova-api)``; run directly, pbr's script serves it
with wsgiref for development.
"""

import sys

from oslo_config import cfg
from oslo_log import log as logging

from sod_nova.api import deploy
from sod_nova.catalog import CatalogError
import sod_nova.conf
from sod_nova.db import api as db_api
from sod_nova.metrics import exporter as metrics_exporter
from sod_nova.trust import ear

CONF = sod_nova.conf.CONF
LOG = logging.getLogger(__name__)


def init_application(argv=None):
    logging.register_options(CONF)
    args = sys.argv[1:] if argv is None else argv
    # pbr's development server passes its own options after "--".
    if '--' in args:
        args = args[args.index('--') + 1:]
    CONF(args, project='sod_nova')
    logging.setup(CONF, 'sod-nova-api')
    try:
        return deploy.deploy(CONF)
    except (CatalogError, db_api.DatabaseConfigError, cfg.Error,
            ear.SigningKeyError, metrics_exporter.MetricsError) as exc:
        sys.exit('sod-nova-api: %s' % exc)
