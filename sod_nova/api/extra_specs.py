"""Validators for the ``sod:`` flavor extra specs (Nova API, microversion ≥ 2.86).

Registered through the ``nova.api.extra_spec_validators`` entry point, so
``openstack flavor set --property sod:options=4 f`` is a 400 with the same
message the CLI and the filter give ("option 4 (Cloud Manager) is refused: …
(paper §V)"), and an unknown ``sod:`` key is refused by Nova itself (the
namespace becomes a known one).

Nova's validators only know ``type`` with ``enum``/``pattern``/``min``/``max``,
so each validator here also carries a ``check`` callable that runs sod-nova's
own parser after Nova's checks; its :class:`PolicyError` becomes Nova's
``ValidationError`` (400). Limit: Nova validates each key on its own, so rules
that span keys (``sod:properties`` needs ``sod:options`` on the same flavor)
cannot be checked here; the scheduler filter refuses such a flavor with that
reason, fail closed.

``sod:package`` is checked against the catalogue named by nova-api's
configuration (``[sod_catalog] packages_file``), read on first use.
"""

import dataclasses
import typing as ty

from nova import exception
from nova.api.validation.extra_specs import base

from sod_nova.catalog import CatalogError
from sod_nova.policy import PolicyError
from sod_nova.policy import parse

_PACKAGES = {}


def _packages():
    if 'packages' not in _PACKAGES:
        import sod_nova.conf
        from sod_nova.conf import catalog as catalog_conf
        _PACKAGES['packages'] = catalog_conf.load_catalog(
            sod_nova.conf.CONF).packages
    return _PACKAGES['packages']


def _check_package(value):
    try:
        packages = _packages()
    except CatalogError as exc:
        raise PolicyError(parse.PREFIX + parse.PACKAGE,
                          'cannot be checked: the catalogue is unusable '
                          '(%s)' % exc) from None
    parse.parse_package(value, packages)


@dataclasses.dataclass
class PolicyExtraSpecValidator(base.ExtraSpecValidator):
    """Nova's validator plus sod-nova's parser (``check(value)``)."""

    check: ty.Callable[[str], ty.Any] | None = None

    def validate(self, name, value):
        super().validate(name, value)
        if self.check is None:
            return
        try:
            self.check(value)
        except PolicyError as exc:
            raise exception.ValidationError(
                'Validation failed; %s' % exc) from None


def register():
    """The ``sod:`` validators (called by Nova when its API loads)."""
    return [
        PolicyExtraSpecValidator(
            name=parse.PREFIX + parse.OPTIONS,
            description=(
                'Security on Demand: the attacker entities the VM must be '
                'protected against, as option numbers separated by commas '
                '(1 Other VMs, 2 Hypervisor, 3 HW attacks, 5 Same OS, '
                '6 Other Apps, 7 Same App). Option 4 (Cloud Manager) is '
                'refused: the cloud manager is trusted. On a flavor this is '
                "the operator's floor: the VM's request is the union of "
                'flavor, image, instance metadata and scheduler hints.'),
            value={'type': str, 'description': 'e.g. "1,2"'},
            check=parse.parse_options),
        PolicyExtraSpecValidator(
            name=parse.PREFIX + parse.PROPERTIES,
            description=(
                'Security on Demand: the properties protected for every '
                'option of sod:options: C (confidentiality), I (integrity) '
                'or C,I (the default).'),
            value={'type': str, 'description': '"C", "I" or "C,I"'},
            check=parse.parse_properties),
        PolicyExtraSpecValidator(
            name=parse.PREFIX + parse.PACKAGE,
            description=(
                'Security on Demand: a named security package from the '
                "operator's catalogue (e.g. medical-records)."),
            value={'type': str, 'description': 'a package name'},
            check=_check_package),
        PolicyExtraSpecValidator(
            name=parse.PREFIX + parse.MOVING_TARGET,
            description=(
                'Security on Demand: move the VM to another satisfying host '
                'every this many seconds (moving target defense).'),
            value={'type': int, 'min': 1},
            check=parse.parse_moving_target),
    ]
