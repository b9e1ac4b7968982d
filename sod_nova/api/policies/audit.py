"""Who may read the migration manager's audit trail: the operator."""

from oslo_policy import policy

from sod_nova.api.policies import base

LIST = 'sod:audit:list'

rules = [
    policy.DocumentedRuleDefault(
        name=LIST, check_str=base.ADMIN,
        description='Page through the hash-chained audit trail, each page '
                    'verified against the entry before it.',
        operations=[{'method': 'GET', 'path': '/audit'}]),
]


def list_rules():
    return rules
