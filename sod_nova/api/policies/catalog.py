"""Who may read the catalogue (Table III): anybody with a token."""

from oslo_policy import policy

from sod_nova.api.policies import base

LIST = 'sod:catalog:list'
SHOW = 'sod:catalog:show'

rules = [
    policy.DocumentedRuleDefault(
        name=LIST, check_str=base.ANY,
        description='List the server architectures and security packages.',
        operations=[{'method': 'GET', 'path': '/catalog'}]),
    policy.DocumentedRuleDefault(
        name=SHOW, check_str=base.ANY,
        description='Show one architecture\'s Table III row.',
        operations=[{'method': 'GET', 'path': '/catalog/{name}'}]),
]


def list_rules():
    return rules
