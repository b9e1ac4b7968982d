"""``sod-nova catalog list|show``: the Server Security Capabilities table.

A row that protects only a guest launched for it (``guest`` in the
catalogue: SEV-SNP, TDX, SGX, CCA, the vTPM row) says so: ``list`` names the
guest launch feature it needs, ``show`` the plain sentence, the extra specs
that launch such a guest and where the requirement comes from.
"""

from cliff import lister
from cliff import show

from sod_nova.catalog import guest_fit
from sod_nova.cli import base
from sod_nova.policy import entities


def _cells(arch):
    """``C/I`` cell values of one row, Table III order, as short strings."""
    return ['%s/%s' % (arch.cells[(e, entities.Property.C)].value,
                       arch.cells[(e, entities.Property.I)].value)
            for e in entities.MATRIX_ORDER]


def _guest_fields(catalog, arch):
    """``show``'s guest fields: what a guest must be for the row to protect
    it, how a flavor asks for that, and the source of the requirement."""
    guest = guest_fit.row_guest(catalog, arch)
    return {'guest': guest['sentence'], 'guest_launch': guest['launch_with'],
            'guest_source': guest['source']}


class ListArchitectures(base.BadInputExits2, lister.Lister):
    """List every architecture and what it protects (C/I per entity)."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        base.add_catalog_args(parser)
        return parser

    def take_action(self, parsed_args):
        catalog = base.catalog_from_args(self.app, parsed_args)
        columns = (['Name', 'Kind'] + [e.label for e in entities.MATRIX_ORDER]
                   + ['Protected Entity', 'Guest Needs'])
        rows = [[a.name, a.kind] + _cells(a)
                + [a.protected_entity, a.guest.feature if a.guest else '-']
                for a in catalog.architectures]
        return columns, rows


class ShowArchitecture(base.BadInputExits2, show.ShowOne):
    """Show one architecture's row, its rationale and its source."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('name', help='architecture name (case-insensitive)')
        base.add_catalog_args(parser)
        return parser

    def take_action(self, parsed_args):
        catalog = base.catalog_from_args(self.app, parsed_args)
        arch = catalog.get(parsed_args.name)
        if arch is None:
            raise base.InputError('%r is not in the catalogue (known: %s)' % (
                parsed_args.name, ', '.join(catalog.names())))
        data = {'name': arch.name, 'kind': arch.kind,
                'protected_entity': arch.protected_entity,
                'reference': arch.reference}
        for e in entities.MATRIX_ORDER:
            for p in entities.PROPERTY_ORDER:
                why = arch.why.get((e, p))
                value = arch.cells[(e, p)].value
                data['%s %s' % (e.label, p.name)] = (
                    '%s - %s' % (value, why) if why else value)
        data.update(_guest_fields(catalog, arch))
        return tuple(data), tuple(data.values())
