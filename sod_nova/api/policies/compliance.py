"""Who may read compliance reports (the security SLA record)."""

from oslo_policy import policy

from sod_nova.api.policies import base

SHOW = 'sod:servers:compliance:show'
LIST = 'sod:compliance:list'
LIST_ALL = 'sod:compliance:list:all_projects'

rules = [
    policy.DocumentedRuleDefault(
        name=SHOW, check_str=base.PROJECT_READER_OR_ADMIN,
        description='One server\'s compliance over a time window: time '
                    'compliant, time paused, each violation with its cause, '
                    'start, end and the migration that ended it.',
        operations=[{'method': 'GET', 'path': '/servers/{id}/compliance'}]),
    policy.DocumentedRuleDefault(
        name=LIST, check_str=base.PROJECT_READER_OR_ADMIN,
        description='The compliance report of the caller\'s project\'s '
                    'servers over a time window.',
        operations=[{'method': 'GET', 'path': '/compliance'}]),
    policy.DocumentedRuleDefault(
        name=LIST_ALL, check_str=base.ADMIN,
        description='The compliance report of every project\'s servers.',
        operations=[{'method': 'GET', 'path': '/compliance?all_projects=1'}]),
]


def list_rules():
    return rules
