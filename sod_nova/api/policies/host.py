"""Who may read host capability rows: the operator only (they name hosts)."""

from oslo_policy import policy

from sod_nova.api.policies import base

LIST = 'sod:hosts:list'
SHOW = 'sod:hosts:show'
EVACUATION_PLAN = 'sod:hosts:evacuation_plan'

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
    policy.DocumentedRuleDefault(
        name=EVACUATION_PLAN, check_str=base.ADMIN,
        description='Show what the migration manager would do with every '
                    'VM of a host that stopped protecting them: move (live '
                    'or cold, where to) or the no-host action, and why.',
        operations=[{'method': 'GET',
                     'path': '/hosts/{name}/evacuation-plan'}]),
]


def list_rules():
    return rules
