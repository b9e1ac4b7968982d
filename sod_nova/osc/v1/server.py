"""``openstack server security show|set|unset``: a server's request.

``set`` and ``unset`` send the whole new request to sod-nova-api, which
validates it and writes the server's ``sod:`` metadata through Nova with
the caller's token. ``unset`` of some parts sends the others back as
sod-nova reads them, wherever they were written.
"""

from osc_lib import exceptions
from osc_lib.command import command

from sod_nova.osc.v1 import common
from sod_nova.osc.v1 import request
from sod_nova.policy import PolicyError
from sod_nova.policy import parse

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


#: How each part of a request is read from ``sod:`` metadata into the API's
#: body: as sod-nova reads it everywhere (:mod:`sod_nova.policy.parse`), so
#: values written through Nova (``openstack server set --property
#: sod:properties='c, i'``) read as those the API writes.
_READERS = {
    parse.OPTIONS: lambda v: sorted(e.option for e in parse.parse_options(v)),
    parse.PROPERTIES: lambda v: sorted(p.name
                                       for p in parse.parse_properties(v)),
    parse.PACKAGE: lambda v: str(v).strip(),
    parse.MOVING_TARGET: parse.parse_moving_target,
    parse.REMEDIATION: lambda v: list(parse.parse_remediation(v)),
}


def _current(security, dropped=()):
    """The server's metadata request as a request body, without the parts
    named in ``dropped`` (``properties`` goes with ``options``).

    A kept part sod-nova cannot read is a :class:`CommandError` naming the
    key: the request can only be cleared whole, or set again.
    """
    keys = parse.policy_items(
        security['requested']['metadata'].get('keys') or {})
    if parse.OPTIONS not in keys or parse.OPTIONS in dropped:
        keys.pop(parse.PROPERTIES, None)
    body = {}
    for name, reader in _READERS.items():
        if name not in keys or name in dropped:
            continue
        try:
            body[name] = reader(keys[name])
        except PolicyError as exc:
            raise exceptions.CommandError(
                "cannot keep the server's %s; clear the whole request "
                "(unset with no option) or set it again" % exc) from None
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
            body = _current(client.security(parsed_args.server), parts)
        return HEADINGS, _values(client.set_security(parsed_args.server,
                                                     body))
