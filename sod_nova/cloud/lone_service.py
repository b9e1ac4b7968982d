"""Run one sod-nova service script alone, on the in-memory transport.

The service scripts refuse ``fake://``, whatever their configuration says:
their messages would reach no other process. A test of the process itself
(it starts, re-reads its configuration on SIGHUP, stops on SIGTERM) needs
no other process, so it runs the script here, e.g.
``python -m sod_nova.cloud.lone_service sod-trust-monitor --config-file FILE``.
"""

import importlib
import sys

from sod_nova.cmd import common

#: Service script -> its module.
SCRIPTS = {'sod-trust-agent': 'sod_nova.cmd.trust_agent',
           'sod-trust-monitor': 'sod_nova.cmd.trust_monitor',
           'sod-migration-manager': 'sod_nova.cmd.migration_manager'}


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] not in SCRIPTS:
        sys.exit('usage: python -m sod_nova.cloud.lone_service {%s} [ARG ...]'
                 % ','.join(SCRIPTS))
    common.allow_in_memory_transport()
    return importlib.import_module(SCRIPTS[argv[0]]).main(argv[1:])


if __name__ == '__main__':
    sys.exit(main())
