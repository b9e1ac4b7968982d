"""``openstack sod compliance report``: per-VM security SLA records."""

from osc_lib.command import command

from sod_nova.osc.v1 import common


class ReportCompliance(command.Lister):
    """Time compliant, time paused and each violation, per server."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('--server', metavar='<server>',
                            help='Only this server (ID)')
        parser.add_argument('--start', metavar='<time>',
                            help='Window start, ISO 8601 (default: each '
                                 'server\'s creation)')
        parser.add_argument('--end', metavar='<time>',
                            help='Window end, ISO 8601 (default: now)')
        parser.add_argument('--all-projects', action='store_true',
                            help='Every project\'s servers (admin)')
        return parser

    def take_action(self, parsed_args):
        reports = common.client(self).compliance(
            parsed_args.server, parsed_args.start, parsed_args.end,
            parsed_args.all_projects)
        rows = []
        for r in reports:
            violations = [{
                'cause': v['cause'], 'start': v['start'], 'end': v['end'],
                'seconds': v['seconds'],
                'ended_by': (v['ended_by'] or {}).get('event'),
                'migration': (v['ended_by'] or {}).get('migration'),
                'kind': (v['ended_by'] or {}).get('kind'),
                'downtime_ms': (v['ended_by'] or {}).get('downtime_ms')}
                for v in r['violations']]
            rows.append((r['server_id'], r['name'], r['compliant_ratio'],
                         r['seconds_compliant'], r['seconds_violated'],
                         r['seconds_paused'], common.JsonColumn(violations)))
        return (('Server', 'Name', 'Compliant Ratio', 'Seconds Compliant',
                 'Seconds Violated', 'Seconds Paused', 'Violations'), rows)
