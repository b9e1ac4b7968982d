"""``openstack sod catalog list|show``: Table III and the packages.

A row that protects only a guest launched for it says so as ``sod-nova
catalog list|show`` does: ``list`` names the guest launch feature it needs,
``show`` the plain sentence, how a flavor asks for such a guest (or that
Nova 34 cannot) and where the requirement comes from, all as sod-nova-api
gives them (``guest`` of ``GET /catalog``).
"""

from osc_lib.command import command

from sod_nova.osc.v1 import common


class ListCatalog(command.Lister):
    """List the server architectures, what each protects and for which
    guest."""

    def take_action(self, parsed_args):
        body = common.client(self).catalog()
        return (('Name', 'Kind', 'Protected Entity', 'Protects',
                 'Guest Needs'),
                [(a['name'], a['kind'], a['protected_entity'],
                  common.MatrixColumn(a['protects']),
                  a['guest']['feature'] or '-')
                 for a in body['architectures']])


class ShowCatalog(command.ShowOne):
    """Show one architecture's Table III row and the guest it protects."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('architecture', metavar='<architecture>',
                            help='Architecture name (case-insensitive)')
        return parser

    def take_action(self, parsed_args):
        arch = common.client(self).architecture(parsed_args.architecture)
        guest = arch['guest']
        return (('Name', 'Kind', 'Reference', 'Protected Entity', 'Protects',
                 'Row', 'Guest', 'Guest Launch', 'Guest Source'),
                (arch['name'], arch['kind'], arch['reference'],
                 arch['protected_entity'],
                 common.MatrixColumn(arch['protects']),
                 common.JsonColumn(arch['row']), guest['sentence'],
                 guest['launch_with'], guest['source']))
