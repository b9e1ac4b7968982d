"""``list_opts()`` for oslo-config-generator (entry point ``oslo.config.opts``)."""

import sod_nova.conf


def list_opts():
    result = {}
    for module in sod_nova.conf._MODULES:
        for group, opts in module.list_opts().items():
            result.setdefault(group, []).extend(opts)
    return [(group, opts) for group, opts in result.items()]
