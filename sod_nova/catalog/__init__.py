"""Server Security Capabilities (paper Table III): data, matching, explaining.

The rows are data (``data/architectures.yaml``), overridable by an operator
file; this package only loads and matches them. It imports nothing from
OpenStack.
"""

from sod_nova.catalog.architecture import Architecture  # noqa: F401
from sod_nova.catalog.architecture import Cell  # noqa: F401
from sod_nova.catalog.catalog import Catalog  # noqa: F401
from sod_nova.catalog.catalog import request_for  # noqa: F401
from sod_nova.catalog.loader import CatalogError  # noqa: F401
