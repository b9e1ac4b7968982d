"""``openstack sod host list|show``: the trust monitor's host rows (admin);
``openstack sod host evacuation-plan``: what would happen to a host's VMs."""

from osc_lib.command import command

from sod_nova.osc.v1 import common

COLUMNS = ('name', 'architecture', 'state', 'reason', 'usable',
           'last_evidence_at', 'capabilities', 'rejected_reports', 'monitor')
HEADINGS = ('Name', 'Architecture', 'State', 'Reason', 'Usable',
            'Last Evidence', 'Capabilities', 'Rejected Reports', 'Monitor')


def _values(host, columns=COLUMNS):
    formatters = {'capabilities': common.MatrixColumn}
    return tuple(formatters[c](host.get(c)) if c in formatters
                 else host.get(c) for c in columns)


def _with_host(parser):
    parser.add_argument('host', metavar='<host>', help='Compute host name')
    return parser


class ListHost(command.Lister):
    """List hosts: trust state, reason, freshness and verified capabilities."""

    def take_action(self, parsed_args):
        hosts = common.client(self).hosts()
        return HEADINGS, [_values(h) for h in hosts]


class ShowHost(command.ShowOne):
    """Show one host's capability row."""

    def get_parser(self, prog_name):
        return _with_host(super().get_parser(prog_name))

    def take_action(self, parsed_args):
        host = common.client(self).host(parsed_args.host)
        columns = COLUMNS + ('usable_reason', 'updated_at')
        return (HEADINGS + ('Usable Reason', 'Updated At'),
                _values(host, columns))


PLAN_COLUMNS = ('name', 'id', 'status', 'outcome', 'move', 'candidates',
                'no_host_action', 'interruption', 'reason')
PLAN_HEADINGS = ('Name', 'ID', 'Status', 'Outcome', 'Move', 'Candidates',
                 'No-host Action', 'Interruption', 'Reason')


class EvacuationPlan(command.Lister):
    """Show, before anything moves, what the migration manager would do with
    each VM of a host that stopped protecting them: move it (live or cold,
    as Nova allows for the guest; to which hosts) or pause it, and why."""

    def get_parser(self, prog_name):
        return _with_host(super().get_parser(prog_name))

    def take_action(self, parsed_args):
        plan = common.client(self).evacuation_plan(parsed_args.host)
        return PLAN_HEADINGS, [
            tuple(', '.join(vm.get(c) or ()) if c == 'candidates'
                  else vm.get(c) for c in PLAN_COLUMNS) for vm in plan]
