"""Who may read host capability rows: the operator only (they name hosts)."""

from oslo_policy import policy

from sod_nova.api.policies import base

LIST = 'sod:hosts:list'
SHOW = 'sod:hosts:show'

rules = [
    policy.DocumentedRuleDefault(
        name=LIST, check_str=base.ADMIN,
        description='List every host: trust state, reason, architecture, '
                    'last evidence, verified capabilities.',
        operations=[{'method': 'GET', 'path': '/hosts'}]),
    policy.DocumentedRuleDefault(
        name=SHOW, check_str=base.ADMIN,
        description='Show one host\'s capability row.',
        operations=[{'method': 'GET', 'path': '/hosts/{name}'}]),
]


def list_rules():
    return rules
