"""``sod-nova request check``: fill the request matrix and match it.

With ``--extra-spec``/``--image-property`` the answer is for the guest that
flavor and image launch: a row protecting only such a guest satisfies the
request only if it is asked for. See doc/source/contributor/api-and-cli.rst.
"""

from cliff import columns
from cliff import show

from sod_nova import keyvalue
from sod_nova.api.objects import request as request_obj
from sod_nova.catalog import guest as guest_mod
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


class SatisfiedColumn(columns.FormattableColumn):
    """The satisfying rows; for people, those that protect only a guest
    launched for them are named apart (``(names, conditional names)``)."""

    def human_readable(self):
        names, conditional = self._value
        plain = [n for n in names if n not in conditional]
        text = ', '.join(plain) or '(none)'
        marked = [n for n in names if n in conditional]
        if marked:
            text += '; only for a guest launched for it: %s' % ', '.join(marked)
        return text

    def machine_readable(self):
        return list(self._value[0])


class GuestColumn(columns.FormattableColumn):
    """The guest asked about: its launch features in words, or None."""

    def human_readable(self):
        if self._value is None:
            return ('(no flavor or image given: each row for a guest '
                    'launched for it)')
        return self._value

    def machine_readable(self):
        return self._value


class ConditionsColumn(columns.FormattableColumn):
    """``{row: sentence}`` of the guest-conditional rows; a line each."""

    def human_readable(self):
        return '\n'.join(self._value.values()) or '-'

    def machine_readable(self):
        return dict(self._value)


def key_values(pairs, option):
    """``{key: value}`` of repeated ``KEY=VALUE`` arguments (None if none)."""
    try:
        return keyvalue.parse(pairs, option)
    except ValueError as exc:
        raise base.InputError(str(exc)) from None


class CheckRequest(base.BadInputExits2, show.ShowOne):
    """Print a request's matrix and the architectures that satisfy it.

    Give the flavor's extra specs (--extra-spec, repeated) and/or the
    image's properties (--image-property) to ask about the guest a VM
    booted with them is launched as; their sod: keys join the request.
    Exit 0 when at least one architecture satisfies the request, 1 when none
    does (the explanation says why), 2 for malformed input.
    """

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('--options', help='options 1-7, e.g. 1,2')
        parser.add_argument('--properties', help='C, I or C,I (default C,I)')
        parser.add_argument('--package', help='a security package name')
        parser.add_argument(
            '--extra-spec', metavar='KEY=VALUE', action='append',
            dest='extra_specs',
            help='an extra spec of the flavor the VM boots with (repeat), '
                 'e.g. hw:mem_encryption=true')
        parser.add_argument(
            '--image-property', metavar='KEY=VALUE', action='append',
            dest='image_properties',
            help='a property of the image the VM boots from (repeat), '
                 'e.g. hw_mem_encryption_model=amd-sev-snp')
        base.add_catalog_args(parser)
        return parser

    def take_action(self, parsed_args):
        catalog = base.catalog_from_args(self.app, parsed_args)
        mapping = {parse.PREFIX + key: getattr(parsed_args, key)
                   for key in (parse.OPTIONS, parse.PROPERTIES, parse.PACKAGE)
                   if getattr(parsed_args, key) is not None}
        specs = key_values(parsed_args.extra_specs, '--extra-spec')
        props = key_values(parsed_args.image_properties, '--image-property')
        answer = request_obj.check(catalog, mapping, specs, props)
        if not answer.request:
            raise base.InputError(
                'give --options and/or --package, or sod: keys in '
                '--extra-spec/--image-property (nothing to check)')
        self.satisfied = bool(answer.satisfied_by)
        conditions = {c.name: c.sentence for c in answer.fit.conditions}
        guest = (None if answer.guest is None
                 else guest_mod.describe(answer.guest))
        return (('request', 'guest', 'satisfied_by', 'guest_conditions',
                 'explanation'),
                (MatrixColumn(answer.request.matrix()), GuestColumn(guest),
                 SatisfiedColumn((answer.satisfied_by, conditions)),
                 ConditionsColumn(conditions), answer.explanation))

    def run(self, parsed_args):
        self.satisfied = False
        result = super().run(parsed_args)
        return 1 if result == 0 and not self.satisfied else result
