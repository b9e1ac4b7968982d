"""``openstack sod catalog list|show``: Table III and the packages."""

from osc_lib.command import command

from sod_nova.osc.v1 import common


class ListCatalog(command.Lister):
    """List the server architectures and what each protects."""

    def take_action(self, parsed_args):
        body = common.client(self).catalog()
        return (('Name', 'Kind', 'Protected Entity', 'Protects'),
                [(a['name'], a['kind'], a['protected_entity'],
                  common.MatrixColumn(a['protects']))
                 for a in body['architectures']])


class ShowCatalog(command.ShowOne):
    """Show one architecture's Table III row."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('architecture', metavar='<architecture>',
                            help='Architecture name (case-insensitive)')
        return parser

    def take_action(self, parsed_args):
        arch = common.client(self).architecture(parsed_args.architecture)
        return (('Name', 'Kind', 'Reference', 'Protected Entity', 'Protects',
                 'Row'),
                (arch['name'], arch['kind'], arch['reference'],
                 arch['protected_entity'],
                 common.MatrixColumn(arch['protects']),
                 common.JsonColumn(arch['row'])))
