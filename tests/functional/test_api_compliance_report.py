"""A scenario's compliance report, through sod-nova-api.

A scenario runs on the embedded cloud (sod-nova simulate's runner); at its
end, before the cloud stops, the operator asks
``GET /compliance?all_projects=1``. Every violation the attack caused is
named with its cause, and every move the runner recorded ends one of them,
naming the migration.
"""

import os

import webob

from sod_nova.api import deploy
from sod_nova.catalog import Catalog
from sod_nova.cloud import noauth
from sod_nova.cloud import runner
from sod_nova.cloud import scenario as scenario_mod

ADMIN = {'X-Auth-Token': 'admin:admin', 'X-Roles': 'admin,member,reader'}


class ReportingRunner(runner.ScenarioRunner):
    """The scenario runner, asking the API for the report at the end."""

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
            resp = webob.Request.blank('/compliance?all_projects=1',
                                       headers=ADMIN).get_response(app)
            assert resp.status_int == 200, resp.text
            result['compliance'] = resp.json['compliance']
        finally:
            for name, _value, group in overrides:
                conf.clear_override(name, group)
        return result


HERE = os.path.dirname(__file__)


def test_an_attack_report_names_each_violation_and_the_migration_that_ended_it():
    catalog = Catalog.load()
    scenario = scenario_mod.load_file(
        os.path.join(HERE, 'scenarios', 'trust-loss.yaml'),
        lambda name: getattr(catalog.get(name), 'name', None))
    result = ReportingRunner(scenario).run()
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
