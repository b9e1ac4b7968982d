"""``openstack sod audit list``: the audit trail, page by page, verified."""

from osc_lib import exceptions
from osc_lib.command import command

from sod_nova.osc.v1 import common


class ListAudit(command.Lister):
    """List audit entries; exit 1 when a page's hash chain is broken."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('--marker', type=int, metavar='<seq>',
                            help='Start after this sequence number')
        parser.add_argument('--limit', type=int, metavar='<n>',
                            help='At most this many entries (one page)')
        return parser

    def take_action(self, parsed_args):
        client = common.client(self)
        marker, rows = parsed_args.marker, []
        while True:
            page = client.audit(marker=marker, limit=parsed_args.limit)
            check = page['verification']
            if not check['intact']:
                raise exceptions.CommandError(
                    'audit chain broken at entry %(seq)s: %(reason)s'
                    % check['break'])
            for e in page['entries']:
                entry = e['entry'] or {}
                rows.append((e['seq'], entry.get('event'), entry.get('vm'),
                             entry.get('trigger'), entry.get('from'),
                             entry.get('to'),
                             entry.get('reason') or entry.get('outcome'),
                             e['hash'][:16]))
            if parsed_args.limit or not page['links'] or not page['entries']:
                break
            marker = page['entries'][-1]['seq']
        return (('Seq', 'Event', 'VM', 'Trigger', 'From', 'To', 'Reason',
                 'Hash'), rows)
