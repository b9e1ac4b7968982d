"""oslo.config types sod-nova's options need beyond oslo.config's own.

oslo.config's ``FloatOpt`` accepts ``nan``, ``inf`` and an empty value:
``float('nan')`` compares false with any ``min``/``max``, so it passes both
bounds, and an empty value becomes ``None``. Either then reaches code that
compares times (a ``nan`` nonce age makes every nonce fresh) or does
arithmetic with them. :class:`FiniteFloatOpt` is a ``FloatOpt`` whose value is
always a finite number between two finite bounds; any other value is
oslo.config's ``ConfigFileValueError``, one line naming the option and the
reason.

oslo.config converts a value only when it is first read, which for some
options is long after start (a verdict write, a failed migration); a
service calls :func:`check_values` right after parsing, so that a bad value
stops it at start instead of failing it later.
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
