"""oslo.config types sod-nova's options need beyond oslo.config's own.

:class:`FiniteFloatOpt` refuses ``nan``, ``inf`` and empty values, which pass
``FloatOpt``'s bounds; :func:`check_values` converts every value at start so a
bad one stops the service then, not when first read
(``doc/source/contributor/architecture-notes.rst``).
"""

import math

from oslo_config import cfg
from oslo_config import types


class FiniteFloat(types.Float):
    """A float between ``min`` and ``max``, both required and finite."""

    def __init__(self, min, max, type_name='floating point value'):
        if not (math.isfinite(min) and math.isfinite(max) and min <= max):
            raise ValueError('bounds must be finite with min <= max, not '
                             '%r..%r' % (min, max))
        super().__init__(min=min, max=max, type_name=type_name)

    def __call__(self, value):
        number = super().__call__(value)
        if number is None or not math.isfinite(number):
            raise ValueError('Should be a finite number from %g to %g, not %r'
                             % (self.min, self.max, value))
        return number


class FiniteFloatOpt(cfg.FloatOpt):
    """A ``FloatOpt`` with required finite bounds whose value is finite.

    Still a ``FloatOpt`` for the sample generator and the Sphinx extension,
    which show its ``min`` and ``max``.
    """

    def __init__(self, name, *, min, max, **kwargs):
        cfg.Opt.__init__(self, name, type=FiniteFloat(min, max), **kwargs)


def check_values(conf, opts):
    """Read every option of ``opts`` (``[(group, [opt, ...])]``, as
    ``sod_nova.conf.opts.list_opts()`` gives them) from ``conf``: the first
    value that is not valid raises ``cfg.ConfigFileValueError`` (one line).
    Options ``conf`` does not hold (a keystoneauth plugin's, before the
    plugin is loaded) are skipped: nothing reads them."""
    for group, group_opts in opts:
        name = group if isinstance(group, str) else group.name
        for opt in group_opts:
            try:
                conf[name][opt.dest]
            except (cfg.NoSuchOptError, cfg.NoSuchGroupError):
                continue
