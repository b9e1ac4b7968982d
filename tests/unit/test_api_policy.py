"""Every default rule of sod-nova-api against Nova's personas.

The enforcer is the real oslo.policy one the service builds, with the
defaults registered; the expected table is the documentation of the rules.
"""

from oslo_config import cfg
import pytest

from sod_nova.api import context as context_mod
from sod_nova.api import policies
from sod_nova.api import policy

PROJECT = 'project-a'

PERSONAS = {
    'admin': ('admin', 'admin-project', ['admin', 'member', 'reader']),
    'project_member': ('alice', PROJECT, ['member', 'reader']),
    'project_reader': ('rita', PROJECT, ['reader']),
    'other_member': ('bob', 'project-b', ['member', 'reader']),
    'no_role': ('carol', PROJECT, []),
}

EVERYBODY = set(PERSONAS)
ADMIN = {'admin'}
READERS = {'admin', 'project_member', 'project_reader'}
MEMBERS = {'admin', 'project_member'}

EXPECTED = {
    'sod:hosts:list': ADMIN,
    'sod:hosts:show': ADMIN,
    'sod:hosts:evacuation_plan': ADMIN,
    'sod:hosts:attestation:show': ADMIN,
    'sod:catalog:list': EVERYBODY,
    'sod:catalog:show': EVERYBODY,
    'sod:requests:check': EVERYBODY,
    'sod:servers:security:show': READERS,
    'sod:servers:security:show:host': ADMIN,
    'sod:servers:security:update': MEMBERS,
    'sod:audit:list': ADMIN,
    'sod:servers:compliance:show': READERS,
    'sod:compliance:list': READERS,
    'sod:compliance:list:all_projects': ADMIN,
}


@pytest.fixture(scope='module')
def enforcer():
    conf = cfg.ConfigOpts()
    conf([], project='sod_nova', default_config_files=[],
         default_config_dirs=[])
    return policy.make_enforcer(conf)


def test_every_documented_rule_has_an_expectation():
    documented = {r.name for r in policies.list_rules()
                  if hasattr(r, 'operations')}
    assert documented == set(EXPECTED)
    for rule in policies.list_rules():
        assert rule.description, rule.name


@pytest.mark.parametrize('rule', sorted(EXPECTED))
@pytest.mark.parametrize('persona', sorted(PERSONAS))
def test_rule_allows_exactly_its_personas(enforcer, rule, persona):
    user, project, roles = PERSONAS[persona]
    ctx = context_mod.RequestContext(user_id=user, project_id=project,
                                     roles=roles, enforcer=enforcer)
    # The target is a server of PROJECT (project rules compare with it).
    target = {'project_id': PROJECT, 'user_id': 'alice'}
    assert ctx.can(rule, target, fatal=False) == (persona in EXPECTED[rule])


def test_the_sample_generator_sees_the_rules():
    from oslo_policy import generator
    rules = generator.get_policies_dict(['sod_nova'])['sod_nova']
    assert {r.name for r in rules} >= set(EXPECTED)
