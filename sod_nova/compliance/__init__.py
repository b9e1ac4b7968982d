"""The one compliance rule, below the scheduler, relocation and API layers.

"Does this host, with this verified row, protect this VM as it is launched,
now": :mod:`.request` reads the VM's effective request and launch features
from its sources (fail closed on a malformed one), :mod:`.rule` judges a
host row against them with the reason.
"""

from sod_nova.compliance.request import Effective  # noqa: F401
from sod_nova.compliance.request import effective  # noqa: F401
from sod_nova.compliance.rule import COMPLIANT  # noqa: F401
from sod_nova.compliance.rule import Rule  # noqa: F401
from sod_nova.compliance.rule import Verdict  # noqa: F401
from sod_nova.compliance.rule import distrust  # noqa: F401
