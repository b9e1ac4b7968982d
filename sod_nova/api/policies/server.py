"""Who may read and set a server's security request.

Nova's own policy applies as well: sod-nova-api reads and writes the
server through Nova's API with the caller's token.
"""

from oslo_policy import policy

from sod_nova.api.policies import base

SHOW = 'sod:servers:security:show'
SHOW_HOST = 'sod:servers:security:show:host'
UPDATE = 'sod:servers:security:update'

rules = [
    policy.DocumentedRuleDefault(
        name=SHOW, check_str=base.PROJECT_READER_OR_ADMIN,
        description='Show what a server asks for (by source), its effective '
                    'request, whether it is compliant now and why, and '
                    'whether it is paused for want of a compliant host.',
        operations=[{'method': 'GET', 'path': '/servers/{id}/security'}]),
    policy.DocumentedRuleDefault(
        name=SHOW_HOST, check_str=base.ADMIN,
        description='See the name and trust row of the host a server runs '
                    'on in its security and compliance views (others see '
                    'the verdict with host names left out).',
        operations=[{'method': 'GET', 'path': '/servers/{id}/security'},
                    {'method': 'GET', 'path': '/servers/{id}/compliance'},
                    {'method': 'GET', 'path': '/compliance'}]),
    policy.DocumentedRuleDefault(
        name=UPDATE, check_str=base.PROJECT_MEMBER_OR_ADMIN,
        description='Set or clear a server\'s security request (its sod: '
                    'metadata, written through Nova\'s API).',
        operations=[{'method': 'PUT', 'path': '/servers/{id}/security'}]),
]


def list_rules():
    return rules
