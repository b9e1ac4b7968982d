"""A scenario's compliance report, through sod-nova-api.

A scenario runs on the embedded cloud (sod-nova simulate's runner); at its
end, before the cloud stops, the operator asks
``GET /compliance?all_projects=1`` over the run's window. Every violation
the attack caused is named with its cause, and every move the runner
recorded ends one of them, naming the migration.
"""

import datetime
import os
import urllib.parse

import webob

from sod_nova.api import deploy
from sod_nova.catalog import Catalog
from sod_nova.cloud import noauth
from sod_nova.cloud import runner
from sod_nova.cloud import scenario as scenario_mod

ADMIN = {'X-Auth-Token': 'admin:admin', 'X-Roles': 'admin,member,reader'}


class ReportingRunner(runner.ScenarioRunner):
    """The scenario runner, asking the API for the report of the run's
    window (from its start to its end) at the end."""

    def run(self, *args, **kwargs):
        self.started = datetime.datetime.now(datetime.UTC)
        return super().run(*args, **kwargs)

    def _final(self, steps):
        result = super()._final(steps)
        conf, base_url = self.cloud.conf, self.cloud.nova.api_fixture.base_url
        overrides = [('auth_strategy', 'noauth2', 'sod_api'),
                     ('endpoint_override', base_url, 'nova')]
        for name, value, group in overrides:
            conf.set_override(name, value, group)
        try:
            app = deploy.deploy(conf, nova_service=noauth.connect(
                base_url, 'sod-service'))
            query = urllib.parse.urlencode({
                'all_projects': '1', 'start': self.started.isoformat(),
                'end': datetime.datetime.now(datetime.UTC).isoformat()})
            resp = webob.Request.blank('/compliance?' + query,
                                       headers=ADMIN).get_response(app)
            assert resp.status_int == 200, resp.text
            result['compliance'] = resp.json['compliance']
        finally:
            for name, _value, group in overrides:
                conf.clear_override(name, group)
        return result


HERE = os.path.dirname(__file__)
#: Why a violation starts (the migration manager's triggers).
VIOLATION_TRIGGERS = ('trust-loss', 'unreachable', 'policy-change')


def _report(path):
    """Run the scenario at ``path`` (None: the paper's, ``sod-nova
    simulate``'s default) and return the runner's result with the report."""
    catalog = Catalog.load()
    scenario = scenario_mod.load_file(
        path, lambda name: getattr(catalog.get(name), 'name', None))
    return ReportingRunner(scenario).run()


def test_an_attack_report_names_each_violation_and_the_migration_that_ended_it():
    result = _report(os.path.join(HERE, 'scenarios', 'trust-loss.yaml'))
    reports = {r['name']: r for r in result['compliance']}
    assert set(reports) == {'vm-b', 'vm-c', 'plain'}
    moves = [m for m in result['migrations'] if m['ok']]
    assert moves, result['migrations']       # the attack moved something
    for move in moves:
        # Each move the runner saw ends one violation of that VM in the
        # report, which names the destination.
        ended = [v for v in reports[move['vm']]['violations']
                 if v['ended_by']['event'] == 'moved'
                 and v['ended_by']['to'] == move['to']]
        assert ended, (move, reports[move['vm']])
        violation = ended[0]
        assert violation['trigger'] == move['trigger']
        assert violation['cause'].startswith(move['trigger'] + '@')
        assert violation['from'] == move['from']
        assert violation['ended_by']['migration']
        assert violation['seconds'] > 0
    for report in reports.values():
        for violation in report['violations']:
            assert violation['cause'] and violation['start'], violation
        total = (report['seconds_compliant'] + report['seconds_violated']
                 + report['seconds_paused'])
        assert abs(total - report['window']['seconds']) < 1e-3
    # The VM without a request is never in violation.
    assert reports['plain']['violations'] == []
    assert reports['plain']['compliant_ratio'] == 1.0



def _ended(report):
    """``[(trigger, from, how it ended)]`` of a VM's violations, in order;
    a violation ended by pausing the VM is followed to the end of the
    pause (``resumed`` after a migration, or in place)."""
    story = []
    for violation in report['violations']:
        end = violation['ended_by']
        if end['event'] == 'parked':
            (pause,) = [p for p in report['pauses']
                        if p['start'] == violation['end']]
            end = dict(pause['ended_by'], to=pause.get('to'),
                       paused=pause['action'])
        story.append((violation['trigger'], violation['from'], end))
    return story


def test_the_paper_scenario_report_names_each_violation_and_what_ended_it():
    result = _report(None)
    reports = {r['name']: r for r in result['compliance']}
    assert set(reports) == {'vm-a', 'vm-b', 'medical', 'plain'}
    moves = {(m['vm'], m['trigger'], m['from'], m['to'])
             for m in result['migrations'] if m['ok']}
    migrations = []
    for name, report in reports.items():
        for violation in report['violations']:
            # Named with its cause (trigger at host), and over.
            assert violation['trigger'] in VIOLATION_TRIGGERS, violation
            assert violation['cause'] == '%s@%s#%s' % (
                violation['trigger'], violation['from'],
                violation['cause'].rsplit('#', 1)[1]), violation
            assert violation['start'] and violation['end'], violation
            assert not violation['ongoing'], violation
            end = violation['ended_by']
            if end['event'] == 'moved':
                # The migration the runner saw, by Nova's id.
                assert (name, violation['trigger'], violation['from'],
                        end['to']) in moves, (violation, moves)
                migrations.append(end['migration'])
        for pause in report['pauses']:
            assert not pause['ongoing'], pause
            # Each pause began when a violation found no compliant host.
            (parked,) = [v for v in report['violations']
                         if v['end'] == pause['start']]
            assert parked['ended_by']['event'] == 'parked', parked
            if pause['ended_by']['migration']:
                assert (name, 'recovery', parked['from'],
                        pause['to']) in moves, (pause, moves)
                migrations.append(pause['ended_by']['migration'])
        total = (report['seconds_compliant'] + report['seconds_violated']
                 + report['seconds_paused'])
        assert abs(total - report['window']['seconds']) < 1e-3
    # Every successful move of the run ended a violation or a pause, each
    # naming its own Nova migration.
    assert all(migrations) and len(set(migrations)) == len(migrations)
    assert len(migrations) == len(moves)

    # VM-B (options 1, 2): the first attack on its HyperWall moves it to
    # the other one; the second leaves no HyperWall trusted, so it is
    # paused, and the recovery moves it back and resumes it.
    (first, second) = _ended(reports['vm-b'])
    assert first[:2] == ('trust-loss', 'hyperwall-1')
    assert (first[2]['event'], first[2]['kind'], first[2]['to']) == (
        'moved', 'live', 'hyperwall-2') and first[2]['migration']
    assert second[:2] == ('trust-loss', 'hyperwall-2')
    assert second[2]['paused'] == 'pause'
    assert second[2]['event'] == 'resumed' and second[2]['migration']
    # VM-A: its customer asks for option 2 too, which its DataSafe server
    # lacks (a policy change, moved to a HyperWall); then the same
    # second attack as VM-B.
    (change, attack) = _ended(reports['vm-a'])
    assert change[:2] == ('policy-change', 'datasafe-1')
    assert change[2]['event'] == 'moved' and change[2]['migration']
    assert attack[:2] == ('trust-loss', change[2]['to'])
    assert attack[2]['event'] == 'resumed' and attack[2]['migration']
    # medical-records: its DataSafe server falls silent (unreachable), no
    # other server protects it, so it is paused, and resumes in place
    # (no migration) when the server's evidence is fresh again.
    (silent,) = _ended(reports['medical'])
    assert silent[:2] == ('unreachable', 'datasafe-1')
    assert silent[2]['event'] == 'resumed' and silent[2]['migration'] is None
    # The VM without a request is never in violation.
    assert reports['plain']['violations'] == []
    assert reports['plain']['compliant_ratio'] == 1.0
