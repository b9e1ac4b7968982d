"""``sod-nova trust enroll|token create|revoke|list``: host attestation keys.

A host's evidence counts only once its key is enrolled, explicitly: the
operator enrolls the public key the agent printed, or issues a one-time token
the agent enrolls its key with. Nothing is trusted on first use.
"""

import sys

from cliff import command
from cliff import lister
from cliff import show

from sod_nova import trust
from sod_nova.cli import base
from sod_nova.cli import db as db_cli
from sod_nova.db import api as db_api
from sod_nova.db import enrollment as db_enrollment
from sod_nova.trust import keys

COLUMNS = ('Host', 'Architecture', 'Public Key', 'Token Pending',
           'Token Expires')


def _values(row):
    return (row.host, row.architecture, row.public_key, row.token_pending,
            row.token_expires_at.isoformat() if row.token_expires_at else None)


def _architecture(app, parsed_args):
    catalog = base.catalog_from_args(app, parsed_args)
    arch = catalog.get(parsed_args.architecture)
    if arch is None:
        raise base.InputError('%r is not in the catalogue (known: %s)' % (
            parsed_args.architecture, ', '.join(catalog.names())))
    return arch.name


def _host(parsed_args):
    return base.host_name(parsed_args.host)


class Enroll(db_cli.ExitsOnDatabaseFailure, show.ShowOne):
    """Enroll a host's attestation public key (printed by sod-trust-agent)."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('host', help='Nova compute host name')
        parser.add_argument('--architecture', required=True,
                            help='the host\'s architecture (catalogue name)')
        parser.add_argument('--public-key', required=True, metavar='FILE',
                            help='file with the Ed25519 public key, base64 of '
                                 'the raw 32 bytes or PEM ("-": stdin)')
        base.add_catalog_args(parser)
        return parser

    def take_action(self, parsed_args):
        host = _host(parsed_args)
        arch = _architecture(self.app, parsed_args)
        try:
            if parsed_args.public_key == '-':
                text = sys.stdin.read()
            else:
                with open(parsed_args.public_key) as f:
                    text = f.read()
        except OSError as exc:
            raise base.InputError('cannot read the public key: %s' % exc) from None
        try:
            public = keys.public_key_text(keys.load_public_key(text))
        except keys.InvalidKey as exc:
            raise base.InputError('%s: %s' % (parsed_args.public_key, exc)) from None
        try:
            row = db_cli.run_db(self.app, lambda: db_enrollment.enroll_key(
                host, arch, public, conf=self.app.conf))
        except db_enrollment.EnrollmentError as exc:
            raise base.InputError(str(exc)) from None
        return COLUMNS, _values(row)


class CreateToken(db_cli.ExitsOnDatabaseFailure, command.Command):
    """Issue a one-time enrollment token for a host (printed on stdout)."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('host', help='Nova compute host name')
        parser.add_argument('--architecture', required=True,
                            help='the host\'s architecture (catalogue name)')
        parser.add_argument('--ttl', type=int, default=3600, metavar='SECONDS',
                            help='validity of the token (default 3600)')
        base.add_catalog_args(parser)
        return parser

    def take_action(self, parsed_args):
        host = _host(parsed_args)
        arch = _architecture(self.app, parsed_args)
        if parsed_args.ttl < 1:
            raise base.InputError('--ttl must be at least 1 second')
        token = keys.new_token()
        db_cli.run_db(self.app, lambda: db_enrollment.create_token(
            host, arch, keys.token_key(token), parsed_args.ttl,
            conf=self.app.conf))
        self.app.stdout.write(token + '\n')
        return 0


class Revoke(db_cli.ExitsOnDatabaseFailure, command.Command):
    """Revoke a host's enrollment; the host becomes untrusted at once."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('host', help='Nova compute host name')
        return parser

    def take_action(self, parsed_args):
        host = _host(parsed_args)
        conf = self.app.conf

        def revoke():
            if not db_enrollment.revoke(host, conf=conf):
                return False
            if db_api.host_get(host, conf=conf) is not None:
                db_api.host_set_trust(host, trust.UNTRUSTED,
                                      'enrollment revoked', 0, conf=conf)
            return True

        if not db_cli.run_db(self.app, revoke):
            raise base.InputError('%s is not enrolled' % host)
        self.app.stdout.write('%s: enrollment revoked\n' % host)
        return 0


class ListEnrollments(db_cli.ExitsOnDatabaseFailure, lister.Lister):
    """List enrolled hosts and pending tokens."""

    def take_action(self, parsed_args):
        rows = db_cli.run_db(self.app,
                             lambda: db_enrollment.get_all(conf=self.app.conf))
        return COLUMNS, [_values(row) for row in rows]
