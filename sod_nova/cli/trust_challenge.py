"""``sod-nova trust challenge-key``: what the agents verify challenges with.

Every challenge the monitor group sends is signed with a key derived from
the group's nonce key (:mod:`sod_nova.trust.challenges`). This prints its
public half, one line, for the agents' ``[sod_trust]
challenge_public_key_file``; the nonce key itself never leaves the
monitors.
"""

from cliff import command

from sod_nova.cli import base
from sod_nova.trust import challenges
from sod_nova.trust import nonces


class ShowChallengeKey(base.BadInputExits2, command.Command):
    """Print the monitor group's challenge public key (for the agents)."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument(
            '--nonce-key-file', metavar='FILE',
            help='the group\'s nonce key (default: [sod_trust] '
                 'nonce_key_file)')
        return parser

    def take_action(self, parsed_args):
        path = (parsed_args.nonce_key_file
                or self.app.conf.sod_trust.nonce_key_file)
        if not path:
            raise base.InputError('no nonce key: give --nonce-key-file or set '
                                  '[sod_trust] nonce_key_file')
        try:
            key = nonces.load_key(path)
        except nonces.NonceKeyError as exc:
            raise base.InputError(str(exc)) from None
        self.app.stdout.write(challenges.public_key_text(key) + '\n')
