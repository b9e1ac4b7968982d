"""Who may check a security request against the catalogue: anybody."""

from oslo_policy import policy

from sod_nova.api.policies import base

CHECK = 'sod:requests:check'

rules = [
    policy.DocumentedRuleDefault(
        name=CHECK, check_str=base.ANY,
        description='Fill the request matrix from options, properties or a '
                    'package and name the architectures that satisfy it.',
        operations=[{'method': 'POST', 'path': '/requests/check'}]),
]


def list_rules():
    return rules
