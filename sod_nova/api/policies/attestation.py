"""Who may read a host's signed attestation result: the operator."""

from oslo_policy import policy

from sod_nova.api.policies import base

SHOW = 'sod:hosts:attestation:show'

rules = [
    policy.DocumentedRuleDefault(
        name=SHOW, check_str=base.ADMIN,
        description='Show one host\'s current trust verdict as a signed EAR '
                    '(draft-ietf-rats-ear) for a relying party to verify '
                    'against the public keys at /.well-known/jwks.json, '
                    'which anybody may read.',
        operations=[{'method': 'GET',
                     'path': '/hosts/{name}/attestation'}]),
]


def list_rules():
    return rules
