"""Default policy rules of sod-nova-api, one module per resource.

``list_rules`` is the ``oslo.policy.policies`` entry point (namespace
``sod_nova``) read by ``oslopolicy-sample-generator``.
"""

import itertools

from sod_nova.api.policies import attestation
from sod_nova.api.policies import audit
from sod_nova.api.policies import base
from sod_nova.api.policies import catalog
from sod_nova.api.policies import compliance
from sod_nova.api.policies import host
from sod_nova.api.policies import request
from sod_nova.api.policies import server


def list_rules():
    return list(itertools.chain(
        base.list_rules(), host.list_rules(), catalog.list_rules(),
        request.list_rules(), server.list_rules(), audit.list_rules(),
        compliance.list_rules(), attestation.list_rules()))
