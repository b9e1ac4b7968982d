"""What every ``sod-nova`` subcommand shares: exit 2 on bad input, the catalogue."""

from sod_nova import exception
from sod_nova import hostname
from sod_nova.catalog import CatalogError
from sod_nova.conf import catalog as catalog_conf
from sod_nova.policy import PolicyError


class InputError(exception.SodNovaException, ValueError):
    """Bad input from the user of a command (exit code 2)."""


#: Exceptions that mean "the user's input is wrong", never a traceback.
BAD_INPUT = (InputError, PolicyError, CatalogError)


class BadInputExits2:
    """Mixin for cliff commands: a bad-input error is one stderr line, exit 2."""

    def run(self, parsed_args):
        try:
            return super().run(parsed_args)
        except BAD_INPUT as exc:
            self.app.stderr.write('%s: %s\n' % (self.app.NAME, exc))
            return 2


def host_name(value):
    """``value`` (surrounding blanks dropped) if it is a valid host name,
    else :class:`InputError` saying why (the rule of :mod:`sod_nova.hostname`)."""
    try:
        return hostname.check(value.strip(), 'host name')
    except hostname.InvalidHostName as exc:
        raise InputError(str(exc)) from None


def add_catalog_args(parser):
    parser.add_argument(
        '--catalog', metavar='FILE',
        help='architectures YAML file to use instead of [sod_catalog] '
             'architectures_file')
    parser.add_argument(
        '--packages', metavar='FILE',
        help='packages YAML file to use instead of [sod_catalog] packages_file')


def catalog_from_args(app, parsed_args):
    """The catalogue named by the command line, else by the configuration."""
    conf = app.conf
    if parsed_args.catalog:
        conf.set_override('architectures_file', parsed_args.catalog, 'sod_catalog')
    if parsed_args.packages:
        conf.set_override('packages_file', parsed_args.packages, 'sod_catalog')
    return catalog_conf.load_catalog(conf)
