"""The base rules the resource rules are written with (Nova's personas)."""

from oslo_policy import policy

ADMIN = 'rule:admin_api'
PROJECT_READER_OR_ADMIN = 'rule:project_reader_or_admin'
PROJECT_MEMBER_OR_ADMIN = 'rule:project_member_or_admin'
ANY = '@'

rules = [
    policy.RuleDefault(
        'admin_api', 'role:admin',
        description='The cloud operator: sees hosts and the audit trail.'),
    policy.RuleDefault(
        'project_reader_api',
        'role:reader and project_id:%(project_id)s',
        description='A reader of the project that owns the server.'),
    policy.RuleDefault(
        'project_member_api',
        'role:member and project_id:%(project_id)s',
        description='A member of the project that owns the server.'),
    policy.RuleDefault(
        'project_reader_or_admin',
        'rule:project_reader_api or rule:admin_api',
        description='A reader of the server\'s project, or the operator.'),
    policy.RuleDefault(
        'project_member_or_admin',
        'rule:project_member_api or rule:admin_api',
        description='A member of the server\'s project, or the operator.'),
]


def list_rules():
    return rules
