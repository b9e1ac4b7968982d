"""``openstack sod audit list``: the audit trail, page by page, verified.

Each page comes verified by sod-nova-api (its keyed links, and the head
against the newest checkpoint). ``--expect-head`` reads to the end and
fails unless some entry still has the head hash kept from an earlier
``sod-nova audit verify``: a chain cut below it.
"""

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
        parser.add_argument('--expect-head', metavar='<hash>',
                            help='A head hash kept from earlier: read on to '
                                 'the end, fail unless an entry after '
                                 '--marker still has it')
        return parser

    def take_action(self, parsed_args):
        client = common.client(self)
        marker, rows, seen = parsed_args.marker, [], set()
        expect = parsed_args.expect_head
        while True:
            page = client.audit(marker=marker, limit=parsed_args.limit)
            check = page['verification']
            if not check['intact']:
                raise exceptions.CommandError(
                    'audit chain broken at entry %(seq)s: %(reason)s'
                    % check['break'])
            for e in page['entries']:
                seen.add(e['hash'])
                entry = e['entry'] or {}
                rows.append((e['seq'], entry.get('event'), entry.get('vm'),
                             entry.get('trigger'), entry.get('from'),
                             entry.get('to'),
                             entry.get('reason') or entry.get('outcome'),
                             e['hash'][:16]))
            if ((parsed_args.limit and not expect) or not page['links']
                    or not page['entries']):
                break
            marker = page['entries'][-1]['seq']
        if expect is not None and expect not in seen:
            raise exceptions.CommandError(
                'audit chain broken: the expected head %s is not in the chain '
                '(cut or rewritten)' % expect)
        return (('Seq', 'Event', 'VM', 'Trigger', 'From', 'To', 'Reason',
                 'Hash'), rows)
