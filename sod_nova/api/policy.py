"""The oslo.policy enforcer of sod-nova-api, with the documented defaults.

``get_enforcer`` is the ``oslo.policy.enforcer`` entry point, so that
``oslopolicy-policy-generator`` and ``oslopolicy-checker`` see the effective
policy of a deployment; the defaults alone are in the sample file made by
``oslopolicy-sample-generator`` (``tox -e genpolicy``).
"""

from oslo_config import cfg
from oslo_policy import opts as policy_opts
from oslo_policy import policy

from sod_nova.api import policies


def make_enforcer(conf):
    """An enforcer over ``conf``'s ``[oslo_policy]``, defaults registered."""
    enforcer = policy.Enforcer(conf)
    enforcer.register_defaults(policies.list_rules())
    enforcer.load_rules()
    return enforcer


def get_enforcer():
    conf = cfg.ConfigOpts()
    conf([], project='sod_nova')
    policy_opts.set_defaults(conf, 'policy.yaml')
    return make_enforcer(conf)
