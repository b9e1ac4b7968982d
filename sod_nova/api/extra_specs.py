"""Validators for the ``sod:`` flavor extra specs (Nova API, microversion ≥ 2.86).

Registered through the ``nova.api.extra_spec_validators`` entry point, so a
bad ``sod:`` key or value is a 400 from Nova with the CLI's and filter's
message. Rules spanning keys are left to the filter and the upgrade check.

See doc/source/contributor/api-and-cli.rst.
"""

import dataclasses
import typing as ty

from nova import exception
from nova.api.validation.extra_specs import base
from oslo_log import log as logging

from sod_nova.catalog import CatalogError
from sod_nova.catalog import guest_fit
from sod_nova.policy import PolicyError
from sod_nova.policy import SecurityRequest
from sod_nova.policy import parse

LOG = logging.getLogger(__name__)

_CATALOG = {}


def _catalog():
    if 'catalog' not in _CATALOG:
        import sod_nova.conf
        from sod_nova.conf import catalog as catalog_conf
        _CATALOG['catalog'] = catalog_conf.load_catalog(sod_nova.conf.CONF)
    return _CATALOG['catalog']


def _packages():
    return _catalog().packages


def _check_package(value):
    try:
        packages = _packages()
    except CatalogError as exc:
        raise PolicyError(parse.PREFIX + parse.PACKAGE,
                          'cannot be checked: the catalogue is unusable '
                          '(%s)' % exc) from None
    return parse.parse_package(value, packages)


def _check_moving_target(value):
    """The period of ``sod:moving_target``, refused below the operator's
    minimum (``[sod_relocation] moving_target_min``)."""
    import sod_nova.conf
    return parse.parse_moving_target(
        value, minimum=sod_nova.conf.CONF.sod_relocation.moving_target_min)


def _check_options(value):
    """The request of ``sod:options`` alone (C,I: the default properties)."""
    return SecurityRequest.from_options(parse.parse_options(value))


def _advise_guest(name, value, request):
    """Log the sentence when only guest-conditional rows satisfy ``request``
    for an ordinary guest (see the module doc); never refuses."""
    try:
        catalog = _catalog()
    except CatalogError:
        return      # sod:package says so; the options are valid without it
    fit = guest_fit.fit(catalog, request, frozenset(),
                        'make sure the flavor asks for it')
    if fit.only_conditional:
        LOG.warning(
            'Flavor extra spec %(name)s=%(value)s asks for %(request)s%(cis)s, '
            'which only rows that protect a guest launched for them '
            'satisfy: %(why)s. A flavor without such launch keys gets no '
            'host for its VMs; sod-nova-status upgrade check names the '
            'flavors that lack them.',
            {'name': name, 'value': value, 'request': request,
             'cis': (' (with the default sod:properties C,I)'
                     if name == parse.PREFIX + parse.OPTIONS else ''),
             'why': '. '.join(fit.sentences())})


@dataclasses.dataclass
class PolicyExtraSpecValidator(base.ExtraSpecValidator):
    """Nova's validator plus sod-nova's parser (``check(value)``), and for
    a key that alone makes a request, the guest advice (``advise``)."""

    check: ty.Callable[[str], ty.Any] | None = None
    advise: bool = False

    def validate(self, name, value):
        super().validate(name, value)
        if self.check is None:
            return
        try:
            result = self.check(value)
        except PolicyError as exc:
            raise exception.ValidationError(
                'Validation failed; %s' % exc) from None
        if self.advise:
            _advise_guest(name, value, result)


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
            check=_check_options, advise=True),
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
            check=_check_package, advise=True),
        PolicyExtraSpecValidator(
            name=parse.PREFIX + parse.MOVING_TARGET,
            description=(
                'Security on Demand: move the VM to another satisfying host '
                'every this many seconds (moving target defense); at least '
                "the operator's [sod_relocation] moving_target_min."),
            value={'type': int, 'min': 1},
            check=_check_moving_target),
        PolicyExtraSpecValidator(
            name=parse.PREFIX + parse.REMEDIATION,
            description=(
                'Security on Demand: the moves a VM accepts, in order, when '
                'its host stops protecting it, before the no-host action '
                '(pause or stop): live and/or cold, e.g. "live,cold"; '
                '"live" for a customer who prefers a pause to a reboot. '
                "Used instead of the operator's [sod_relocation] "
                'remediation; moves Nova refuses for the guest are skipped.'),
            value={'type': str, 'description': 'e.g. "live,cold"'},
            check=parse.parse_remediation),
    ]
