"""The embedded cloud: real Nova services in-process, for the demo, tests and benchmarks.

:mod:`sod_nova.cloud.nova` is the entry point; importing this package itself
has no side effect. The ``embedded`` extra installs what the embedded cloud
needs (Nova, Placement, their fixtures' libraries); :func:`missing` says what
is absent. See doc/source/contributor/simulator.rst.
"""

import importlib.util

#: Top-level modules the embedded cloud imports that only the ``embedded``
#: extra installs (setup.cfg).
EMBEDDED_MODULES = ('nova', 'placement', 'fixtures', 'testtools', 'wsgi_intercept')
INSTALL_HINT = "pip install 'sod-nova[embedded]' (or, in a checkout: pip install -e '.[embedded]')"


def missing():
    """Names of the embedded cloud's modules that are not installed."""
    return [name for name in EMBEDDED_MODULES if importlib.util.find_spec(name) is None]
