"""The embedded cloud: real Nova services in-process, for the demo, tests and benchmarks.

:mod:`sod_nova.cloud.nova` is the entry point to the Nova part
(:class:`~sod_nova.cloud.nova.EmbeddedNova`). Importing it fixes Nova's
concurrency mode for the whole process, see :mod:`sod_nova.cloud._bootstrap`;
importing this package itself has no side effect.

The embedded cloud needs what sod-nova's services do not: Nova and Placement
at the releases sod-nova is tested with, and the libraries Nova's in-process
fixtures import. The ``embedded`` extra installs them
(``pip install 'sod-nova[embedded]'``); :func:`missing` says what is absent so
that a command can say so in one line instead of a ``ModuleNotFoundError``.
"""

import importlib.util

#: Top-level modules the embedded cloud imports that only the ``embedded``
#: extra installs (setup.cfg).
EMBEDDED_MODULES = ('nova', 'placement', 'fixtures', 'testtools', 'wsgi_intercept')
INSTALL_HINT = "pip install 'sod-nova[embedded]' (or, in a checkout: pip install -e '.[embedded]')"


def missing():
    """Names of the embedded cloud's modules that are not installed."""
    return [name for name in EMBEDDED_MODULES if importlib.util.find_spec(name) is None]
