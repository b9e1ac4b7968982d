"""Option groups renamed with the ``sod_`` prefix, old names kept one release.

The options are registered in nova-scheduler's and nova-api's configuration,
where generic names such as ``[trust]`` could collide with another plugin's;
an old group name is still read, with a deprecation warning.
See doc/source/contributor/api-and-cli.rst.
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
