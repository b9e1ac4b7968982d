"""``sod-nova``: the operator's and customer's command line (thin: cliff app)."""

import sys

from cliff import app
from cliff import commandmanager

from sod_nova import version
import sod_nova.conf


class SodNovaApp(app.App):
    """Subcommands come from the ``sod_nova.cli`` entry point namespace."""

    NAME = 'sod-nova'

    def __init__(self):
        super().__init__(
            description=__doc__,
            version=version.version_string(),
            command_manager=commandmanager.CommandManager('sod_nova.cli'),
            deferred_help=True)
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


def main(argv=None):
    return SodNovaApp().run(sys.argv[1:] if argv is None else argv)


if __name__ == '__main__':
    sys.exit(main())
