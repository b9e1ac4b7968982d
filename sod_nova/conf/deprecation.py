"""Option groups renamed with the ``sod_`` prefix, old names kept one release.

sod-nova's options are registered in nova-scheduler's and nova-api's global
configuration (the filter and the extra-spec validators run there), where
generic group names such as ``[sod_trust]`` or ``[sod_filter]`` could collide with
another plugin's. The groups are therefore ``[sod_trust]``,
``[sod_relocation]``, ``[sod_catalog]``, ``[sod_filter]`` and
``[sod_upgrade_check]``; a file that still uses the old name is read as
before, and oslo.config logs a deprecation warning for each option found
there.
"""

from oslo_config import cfg


def from_group(old, opts):
    """``opts``, each also read from the deprecated group ``old``.

    Applied once, where the options are defined (every ``ConfigOpts`` that
    registers them shares the objects).
    """
    for opt in opts:
        opt.deprecated_opts.append(cfg.DeprecatedOpt(opt.name, group=old))
    return opts
