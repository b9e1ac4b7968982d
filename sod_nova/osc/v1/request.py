"""``openstack sod request check``: fill the request matrix and match it.

``--flavor`` (read from Nova with the user's credentials), ``--extra-spec``
and ``--image-property`` ask about the guest a VM booted with them is
launched as (sod-nova-api 1.2): the rows that protect only a guest launched
for them (AMD-SEV-SNP, Intel-TDX, …) satisfy the request only if the flavor
or image asks for that guest, and the answer says so plainly.
"""

from osc_lib import exceptions
from osc_lib.command import command

from sod_nova import keyvalue
from sod_nova.osc.v1 import common


def add_security_args(parser):
    parser.add_argument('--option', metavar='<1-7>', type=int,
                        action='append', dest='options',
                        help='Attacker entity to be protected from (paper '
                             'options 1-7; repeat for more)')
    parser.add_argument('--property', metavar='<C|I>', action='append',
                        dest='properties', choices=['C', 'I'],
                        help='Confidentiality and/or integrity for the '
                             'options (default: both; repeat for both)')
    parser.add_argument('--package', metavar='<package>',
                        help='A named security package')
    return parser


def security_body(parsed_args):
    body = {}
    if parsed_args.options:
        body['options'] = sorted(set(parsed_args.options))
    if parsed_args.properties:
        body['properties'] = sorted(set(parsed_args.properties))
    if parsed_args.package:
        body['package'] = parsed_args.package
    return body


def key_values(pairs, option):
    """``{key: value}`` of repeated ``<key=value>`` arguments."""
    try:
        return keyvalue.parse(pairs or (), option, '<key=value>')
    except ValueError as exc:
        raise exceptions.CommandError(str(exc)) from None


class ConditionsColumn(common.ListColumn):
    """The guest-conditional rows: a sentence a line for a table, the
    API's objects for json/yaml."""

    def human_readable(self):
        return '\n'.join(c['sentence'] for c in self._value or ()) or '-'


class CheckRequest(command.ShowOne):
    """Show a request's matrix and the architectures that satisfy it.

    With --flavor, --extra-spec or --image-property: for the guest a VM
    booted with that flavor and image is launched as.
    """

    def get_parser(self, prog_name):
        parser = add_security_args(super().get_parser(prog_name))
        parser.add_argument(
            '--flavor', metavar='<flavor>',
            help='The flavor (name or ID) the VM would boot with: its extra '
                 'specs say which guest Nova launches')
        parser.add_argument(
            '--extra-spec', metavar='<key=value>', action='append',
            dest='extra_specs',
            help='A flavor extra spec (repeat), e.g. hw:mem_encryption=true; '
                 'added to those of --flavor')
        parser.add_argument(
            '--image-property', metavar='<key=value>', action='append',
            dest='image_properties',
            help='A property of the image the VM would boot from (repeat), '
                 'e.g. hw_mem_encryption_model=amd-sev-snp')
        return parser

    def _guest(self, parsed_args):
        specs = key_values(parsed_args.extra_specs, '--extra-spec')
        props = key_values(parsed_args.image_properties, '--image-property')
        if not (parsed_args.flavor or parsed_args.extra_specs
                or parsed_args.image_properties):
            return None
        guest = {}
        if parsed_args.flavor:
            compute = self.app.client_manager.compute
            flavor = compute.find_flavor(parsed_args.flavor,
                                         get_extra_specs=True,
                                         ignore_missing=False)
            guest['flavor'] = flavor.name
            specs = dict(flavor.extra_specs or {}, **specs)
        guest['extra_specs'] = specs
        if parsed_args.image_properties:
            guest['image_properties'] = props
        return guest

    def take_action(self, parsed_args):
        body = security_body(parsed_args)
        guest = self._guest(parsed_args)
        if guest is not None:
            body['guest'] = guest
        if not body:
            raise exceptions.CommandError(
                'give --option and/or --package (nothing to check)')
        result = common.client(self).check(body)
        return (('Request', 'Guest', 'Satisfied By', 'Guest Conditions',
                 'Explanation'),
                (common.MatrixColumn(result['request']['matrix']),
                 (result.get('guest') or {}).get('description'),   # 1.2
                 common.ListColumn(result['satisfied_by']),
                 ConditionsColumn(result.get('guest_conditions')),
                 result['explanation']))
