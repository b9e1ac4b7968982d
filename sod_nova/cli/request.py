"""``sod-nova request check``: fill the request matrix and match it."""

from cliff import columns
from cliff import show

from sod_nova.cli import base
from sod_nova.policy import entities
from sod_nova.policy import parse


class MatrixColumn(columns.FormattableColumn):
    """The Table II row: ``{entity: [C, I]}`` for machines, a line for people."""

    def human_readable(self):
        chosen = self._value
        return '  '.join(
            '%s:%s' % (e.label, ''.join(chosen.get(e.label, [])) or '-')
            for e in entities.MATRIX_ORDER)

    def machine_readable(self):
        return self._value


class ListColumn(columns.FormattableColumn):
    def human_readable(self):
        return ', '.join(self._value) or '(none)'

    def machine_readable(self):
        return list(self._value)


class CheckRequest(base.BadInputExits2, show.ShowOne):
    """Print a request's matrix and the architectures that satisfy it.

    Exit 0 when at least one architecture satisfies the request, 1 when none
    does (the explanation says why), 2 for malformed input.
    """

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('--options', help='options 1-7, e.g. 1,2')
        parser.add_argument('--properties', help='C, I or C,I (default C,I)')
        parser.add_argument('--package', help='a security package name')
        base.add_catalog_args(parser)
        return parser

    def take_action(self, parsed_args):
        catalog = base.catalog_from_args(self.app, parsed_args)
        mapping = {parse.PREFIX + key: getattr(parsed_args, key)
                   for key in (parse.OPTIONS, parse.PROPERTIES, parse.PACKAGE)
                   if getattr(parsed_args, key) is not None}
        if not mapping:
            raise base.InputError(
                'give --options and/or --package (nothing to check)')
        request = parse.parse_request(mapping, catalog.packages)
        satisfied = catalog.satisfying(request)
        self.satisfied = bool(satisfied)
        return (('request', 'satisfied_by', 'explanation'),
                (MatrixColumn(request.matrix()), ListColumn(satisfied),
                 catalog.explain(request)))

    def run(self, parsed_args):
        self.satisfied = False
        result = super().run(parsed_args)
        return 1 if result == 0 and not self.satisfied else result
