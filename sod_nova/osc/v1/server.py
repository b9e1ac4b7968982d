"""``openstack server security show|set|unset``: a server's request.

``set`` and ``unset`` send the whole new request to sod-nova-api, which
validates it and writes the server's ``sod:`` metadata through Nova with
the caller's token.
"""

from osc_lib import exceptions
from osc_lib.command import command

from sod_nova.osc.v1 import common
from sod_nova.osc.v1 import request

HEADINGS = ('Server', 'Compliant', 'Reason', 'Effective', 'Requested',
            'Satisfied By', 'Paused', 'Relocation', 'Host')


def _values(security):
    requested = {source: entry.get('keys') for source, entry
                 in security['requested'].items() if entry.get('keys')}
    return (security['server_id'], security['compliant'], security['reason'],
            common.MatrixColumn(security['effective']['matrix']),
            common.JsonColumn(requested),
            common.ListColumn(security['satisfied_by']),
            common.JsonColumn(security['paused']
                              if security['paused']['paused'] else None),
            common.JsonColumn(security['relocation']),
            security.get('host'))


def _server_arg(parser):
    parser.add_argument('server', metavar='<server>', help='Server ID')
    return parser


class ShowSecurity(command.ShowOne):
    """Show what a server asks for, and whether it is compliant now."""

    def get_parser(self, prog_name):
        return _server_arg(super().get_parser(prog_name))

    def take_action(self, parsed_args):
        return HEADINGS, _values(
            common.client(self).security(parsed_args.server))


def _current(security):
    """The server's metadata request as a request body."""
    keys = security['requested']['metadata'].get('keys') or {}
    body = {}
    if 'sod:options' in keys:
        body['options'] = [int(o) for o in keys['sod:options'].split(',')]
    if 'sod:properties' in keys and 'sod:options' in keys:
        body['properties'] = keys['sod:properties'].split(',')
    if 'sod:package' in keys:
        body['package'] = keys['sod:package']
    if 'sod:moving_target' in keys:
        body['moving_target'] = int(keys['sod:moving_target'])
    return body


class SetSecurity(command.ShowOne):
    """Set a server's security request (replaces its sod: metadata)."""

    def get_parser(self, prog_name):
        parser = request.add_security_args(
            _server_arg(super().get_parser(prog_name)))
        parser.add_argument('--moving-target', metavar='<seconds>', type=int,
                            help='Move the server at least this often')
        return parser

    def take_action(self, parsed_args):
        body = request.security_body(parsed_args)
        if parsed_args.moving_target:
            body['moving_target'] = parsed_args.moving_target
        if not body:
            raise exceptions.CommandError(
                'give --option, --package or --moving-target')
        return HEADINGS, _values(common.client(self).set_security(
            parsed_args.server, body))


class UnsetSecurity(command.ShowOne):
    """Clear a server's security request, or parts of it."""

    def get_parser(self, prog_name):
        parser = _server_arg(super().get_parser(prog_name))
        parser.add_argument('--package', action='store_true',
                            help='Clear only the package')
        parser.add_argument('--options', action='store_true',
                            help='Clear only the options and properties')
        parser.add_argument('--moving-target', action='store_true',
                            help='Clear only the moving-target period')
        return parser

    def take_action(self, parsed_args):
        client = common.client(self)
        body = {}
        parts = [name for name in ('package', 'options', 'moving_target')
                 if getattr(parsed_args, name)]
        if parts:
            body = _current(client.security(parsed_args.server))
            for name in parts:
                body.pop(name, None)
                if name == 'options':
                    body.pop('properties', None)
        return HEADINGS, _values(client.set_security(parsed_args.server,
                                                     body))
