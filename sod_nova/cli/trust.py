"""``sod-nova trust enroll|token create|revoke|list``: host attestation keys.

A host's evidence counts only once its key is enrolled, explicitly: nothing
is trusted on first use. A TPM 2.0 host is enrolled with its EK too
(``--tpm-ek``). See doc/source/contributor/api-and-cli.rst.
"""

import base64
import sys

from cliff import command
from cliff import lister
from cliff import show
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from sod_nova import trust
from sod_nova.cli import base
from sod_nova.cli import db as db_cli
from sod_nova.db import api as db_api
from sod_nova.db import enrollment as db_enrollment
from sod_nova.trust import attestation
from sod_nova.trust import keys
from sod_nova.trust import tpm2

COLUMNS = ('Host', 'Architecture', 'Public Key', 'Token Pending',
           'Token Expires', 'TPM EK', 'TPM AK Activated')


def _values(row):
    return (row.host, row.architecture, row.public_key, row.token_pending,
            row.token_expires_at.isoformat() if row.token_expires_at else None,
            _ek_fingerprint(row.tpm_ek), bool(row.tpm_ak))


def _ek_fingerprint(text):
    """A short name of an enrolled EK: the hex of its TPM name's digest."""
    if not text:
        return None
    return attestation.decode_ek(text).name[2:].hex()[:16]


def read_ek(text):
    """The base64 TPMT_PUBLIC of the EK in ``text``: base64 TPMT_PUBLIC as
    ``sod-trust-agent`` prints it, or the PEM of the EK's RSA 2048 public
    key or certificate (the TPMT_PUBLIC rebuilt from the TCG template)."""
    text = text.strip()
    try:
        if text.startswith('-----BEGIN CERTIFICATE'):
            key = x509.load_pem_x509_certificate(text.encode()).public_key()
        elif text.startswith('-----BEGIN'):
            key = serialization.load_pem_public_key(text.encode())
        else:
            return base64.b64encode(attestation.decode_ek(text).raw).decode()
    except ValueError as exc:
        raise base.InputError('the endorsement key is not usable: %s' % exc) from None
    if not isinstance(key, rsa.RSAPublicKey):
        raise base.InputError('the endorsement key is not an RSA key')
    try:
        raw = tpm2.ek_public_from_rsa(key)
    except tpm2.TpmError as exc:
        raise base.InputError('the endorsement key is not usable: %s' % exc) from None
    return base64.b64encode(raw).decode()


#: Largest key or EK file read: a PEM certificate is a few KB.
MAX_KEY_FILE_BYTES = 64 * 1024


def _read(path, what):
    """The text of the ``what`` file at ``path`` ("-": stdin), read at most
    :data:`MAX_KEY_FILE_BYTES` (so ``/dev/zero`` is refused, not read)."""
    try:
        if path == '-':
            data = sys.stdin.buffer.read(MAX_KEY_FILE_BYTES + 1)
        else:
            with open(path, 'rb') as f:
                data = f.read(MAX_KEY_FILE_BYTES + 1)
    except OSError as exc:
        raise base.InputError('%s: cannot read the %s: %s' % (
            path, what, exc.strerror or exc)) from None
    if len(data) > MAX_KEY_FILE_BYTES:
        raise base.InputError('%s: larger than %d bytes (the %s must be '
                              'base64 or PEM text)' % (path, MAX_KEY_FILE_BYTES,
                                                       what))
    try:
        return data.decode('ascii')
    except UnicodeDecodeError as exc:
        raise base.InputError('%s: byte %d is not text (the %s must be base64 '
                              'or PEM text)' % (path, exc.start, what)) from None


def _architecture(app, parsed_args):
    catalog = base.catalog_from_args(app, parsed_args)
    arch = catalog.get(parsed_args.architecture)
    if arch is None:
        raise base.InputError('%r is not in the catalogue (known: %s)' % (
            parsed_args.architecture, ', '.join(catalog.names())))
    return arch.name


def _host(parsed_args):
    return base.host_name(parsed_args.host)


def _add_tpm_ek_arg(parser):
    parser.add_argument('--tpm-ek', metavar='FILE',
                        help='file with the TPM 2.0 endorsement key: the '
                             'base64 TPMT_PUBLIC sod-trust-agent prints '
                             '("tpm_ek ..."), or the PEM of the EK '
                             'certificate or RSA public key')


def _tpm_ek(parsed_args):
    """The ``--tpm-ek`` file's EK as stored (base64 TPMT_PUBLIC), or None."""
    if not parsed_args.tpm_ek:
        return None
    try:
        return read_ek(_read(parsed_args.tpm_ek, 'endorsement key'))
    except tpm2.TpmError as exc:
        raise base.InputError('%s: %s' % (parsed_args.tpm_ek, exc)) from None


class Enroll(db_cli.ExitsOnDatabaseFailure, show.ShowOne):
    """Enroll a host's attestation public key (printed by sod-trust-agent).

    A TPM host is enrolled with its TPM's endorsement key as well
    (``--tpm-ek``); its attestation key then counts only after the TPM has
    activated a credential the monitor sealed to that EK.
    """

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('host', help='Nova compute host name')
        parser.add_argument('--architecture', required=True,
                            help='the host\'s architecture (catalogue name)')
        parser.add_argument('--public-key', required=True, metavar='FILE',
                            help='file with the Ed25519 public key, base64 of '
                                 'the raw 32 bytes or PEM ("-": stdin)')
        _add_tpm_ek_arg(parser)
        base.add_catalog_args(parser)
        return parser

    def take_action(self, parsed_args):
        host = _host(parsed_args)
        arch = _architecture(self.app, parsed_args)
        text = _read(parsed_args.public_key, 'public key')
        try:
            public = keys.canonical_public_key(text)
        except keys.InvalidKey as exc:
            raise base.InputError('%s: %s' % (parsed_args.public_key, exc)) from None
        ek = _tpm_ek(parsed_args)
        try:
            row = db_cli.run_db(self.app, lambda: db_enrollment.enroll_key(
                db_api.Context(), host, arch, public, tpm_ek=ek))
        except db_enrollment.EnrollmentError as exc:
            raise base.InputError(str(exc)) from None
        return COLUMNS, _values(row)


class CreateToken(db_cli.ExitsOnDatabaseFailure, command.Command):
    """Issue a one-time enrollment token for a host (printed on stdout).

    The agent enrolls its own attestation public key with the token. A TPM
    host's endorsement key cannot come that way (the agent's word is not the
    TPM's): give it here (``--tpm-ek``), from the TPM's EK certificate or
    the agent's ``tpm_ek`` line, as for ``trust enroll``.
    """

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('host', help='Nova compute host name')
        parser.add_argument('--architecture', required=True,
                            help='the host\'s architecture (catalogue name)')
        parser.add_argument('--ttl', type=int, default=3600, metavar='SECONDS',
                            help='validity of the token (default 3600, at '
                                 'most %d)' % db_enrollment.MAX_TOKEN_TTL)
        _add_tpm_ek_arg(parser)
        base.add_catalog_args(parser)
        return parser

    def take_action(self, parsed_args):
        host = _host(parsed_args)
        arch = _architecture(self.app, parsed_args)
        if not 1 <= parsed_args.ttl <= db_enrollment.MAX_TOKEN_TTL:
            raise base.InputError('--ttl must be 1 to %d seconds' %
                                  db_enrollment.MAX_TOKEN_TTL)
        ek = _tpm_ek(parsed_args)
        token = keys.new_token()
        db_cli.run_db(self.app, lambda: db_enrollment.create_token(
            db_api.Context(), host, arch, keys.token_key(token),
            parsed_args.ttl, tpm_ek=ek))
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

        @db_api.context_manager.writer
        def revoke(context):
            if not db_enrollment.revoke(context, host):
                return False
            if db_api.host_get(context, host) is not None:
                db_api.host_set_trust(context, host, trust.UNTRUSTED,
                                      'enrollment revoked', 0)
            return True

        if not db_cli.run_db(self.app, lambda: revoke(db_api.Context())):
            raise base.InputError('%s is not enrolled' % host)
        self.app.stdout.write('%s: enrollment revoked\n' % host)
        return 0


class ListEnrollments(db_cli.ExitsOnDatabaseFailure, lister.Lister):
    """List enrolled hosts and pending tokens."""

    def take_action(self, parsed_args):
        rows = db_cli.run_db(self.app,
                             lambda: db_enrollment.get_all(db_api.Context()))
        return COLUMNS, [_values(row) for row in rows]
