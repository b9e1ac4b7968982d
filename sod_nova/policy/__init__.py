"""The security model: attacker entities, options 1-7, the request matrix.

Standard library only, so the model can be reasoned about and tested without
any OpenStack service (and reused by the Horizon plugin and the CLI).
"""

from sod_nova.policy.entities import CELLS  # noqa: F401
from sod_nova.policy.entities import MATRIX_ORDER  # noqa: F401
from sod_nova.policy.entities import Entity  # noqa: F401
from sod_nova.policy.entities import Property  # noqa: F401
from sod_nova.policy.parse import PolicyError  # noqa: F401
from sod_nova.policy.parse import parse_request  # noqa: F401
from sod_nova.policy.request import EMPTY  # noqa: F401
from sod_nova.policy.request import SecurityRequest  # noqa: F401
