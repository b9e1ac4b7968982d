"""``openstack sod request check``: fill the request matrix and match it."""

from osc_lib import exceptions
from osc_lib.command import command

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


class CheckRequest(command.ShowOne):
    """Show a request's matrix and the architectures that satisfy it."""

    def get_parser(self, prog_name):
        return add_security_args(super().get_parser(prog_name))

    def take_action(self, parsed_args):
        body = security_body(parsed_args)
        if not body:
            raise exceptions.CommandError(
                'give --option and/or --package (nothing to check)')
        result = common.client(self).check(body)
        return (('Request', 'Satisfied By', 'Explanation'),
                (common.MatrixColumn(result['request']['matrix']),
                 common.ListColumn(result['satisfied_by']),
                 result['explanation']))
