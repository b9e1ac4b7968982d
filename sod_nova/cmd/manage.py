"""``sod-nova``: the operator's and customer's command line (thin: cliff app)."""

import sys

from cliff import app
from cliff import commandmanager

from sod_nova import version


class SodNovaApp(app.App):
    """Subcommands come from the ``sod_nova.cli`` entry point namespace."""

    NAME = 'sod-nova'

    def __init__(self):
        super().__init__(
            description=__doc__,
            version=version.version_string(),
            command_manager=commandmanager.CommandManager('sod_nova.cli'),
            deferred_help=True)
        import sod_nova.conf  # after main() fixed the concurrency mode
        self.conf = sod_nova.conf.CONF

    def build_option_parser(self, description, version, argparse_kwargs=None):
        parser = super().build_option_parser(description, version, argparse_kwargs)
        parser.add_argument(
            '--config-file', action='append', default=[], metavar='PATH',
            help='sod-nova configuration file (may be repeated)')
        return parser

    def initialize_app(self, argv):
        self.conf([], project='sod_nova', prog=self.NAME,
                  default_config_files=self.options.config_file or None,
                  version=version.version_string())


#: Subcommands that start the embedded cloud: Nova's concurrency mode must be
#: fixed before anything imports oslo.messaging (sod_nova.cloud._bootstrap).
EMBEDDED_CLOUD_COMMANDS = ('simulate',)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if any(word in EMBEDDED_CLOUD_COMMANDS for word in argv):
        from sod_nova import cloud
        if not cloud.missing():  # else the command says what to install
            from sod_nova.cloud import _bootstrap
            _bootstrap.select_concurrency_mode()
    return SodNovaApp().run(argv)


if __name__ == '__main__':
    sys.exit(main())
