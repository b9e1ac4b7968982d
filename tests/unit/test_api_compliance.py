"""Compliance records from audit entries, and the order of metadata writes."""

import pytest

from sod_nova.api.objects import compliance
from sod_nova.api.objects import request as request_obj
from sod_nova.catalog import Catalog
from sod_nova.catalog import request_for


def entry(event, at, **fields):
    return dict(fields, event=event, at=at, vm='vm1')


def test_a_trust_loss_ended_by_a_migration():
    entries = [
        entry('decided', 105.0, trigger='trust-loss', cause='trust-loss@a#0',
              reason='a is untrusted: bad PCR', event_at=100.0, **{'from': 'a'}),
        entry('migrate-called', 106.0, to=None),
        entry('moved', 110.0, migration='7', kind='live', to='b',
              compliant=True),
    ]
    report = compliance.report('vm1', entries, start=0.0, end=200.0,
                               created_at=50.0)
    assert report['window']['seconds'] == 150.0
    [violation] = report['violations']
    assert violation['cause'] == 'trust-loss@a#0'
    assert violation['seconds'] == 10.0
    assert violation['ended_by'] == {'event': 'moved', 'migration': '7',
                                     'kind': 'live', 'to': 'b',
                                     'downtime_ms': None}
    assert report['seconds_compliant'] == 140.0
    assert report['seconds_paused'] == 0.0


def test_a_cold_move_shows_the_guests_downtime():
    entries = [
        entry('decided', 105.0, trigger='trust-loss', event_at=100.0),
        entry('migrate-called', 106.0, to=None),
        entry('moved', 118.0, migration='8', kind='cold', to='snp2',
              compliant=True, downtime_ms=12000.0),
    ]
    report = compliance.report('vm1', entries, start=0.0, end=200.0)
    [violation] = report['violations']
    assert violation['ended_by'] == {'event': 'moved', 'migration': '8',
                                     'kind': 'cold', 'to': 'snp2',
                                     'downtime_ms': 12000.0}


def test_no_host_pauses_the_vm_until_a_move_resumes_it():
    entries = [
        entry('decided', 10.0, trigger='unreachable', cause='unreachable@a#0',
              event_at=8.0),
        entry('parked', 12.0, action='pause', reason='no compliant host'),
        entry('decided', 30.0, trigger='recovery', cause='recovery@a#0',
              event_at=29.0),
        entry('moved', 33.0, migration='9', kind='live', to='c',
              compliant=True),
        entry('resumed', 34.0, outcome='moved'),
    ]
    report = compliance.report('vm1', entries, start=0.0, end=100.0)
    [violation] = report['violations']
    assert (violation['seconds'], violation['ended_by']['event']) == (4.0,
                                                                      'parked')
    [pause] = report['pauses']
    assert pause['seconds'] == 22.0
    assert pause['ended_by'] == {'event': 'resumed', 'migration': '9'}
    assert report['seconds_compliant'] == 74.0


def test_an_open_violation_runs_to_the_end_of_the_window():
    entries = [entry('decided', 50.0, trigger='trust-loss', event_at=40.0),
               entry('moved', 55.0, compliant=False, migration='1')]
    report = compliance.report('vm1', entries, start=0.0, end=60.0)
    [violation] = report['violations']
    assert violation['ongoing'] is True and violation['seconds'] == 20.0


def test_the_window_clips_violations():
    entries = [entry('decided', 10.0, trigger='policy-change', event_at=10.0),
               entry('moved', 30.0, compliant=True, migration='2')]
    report = compliance.report('vm1', entries, start=20.0, end=40.0)
    assert report['violations'][0]['seconds'] == 10.0
    assert compliance.report('vm1', entries, 31.0, 40.0)['violations'] == []


def test_a_moving_target_move_is_no_violation():
    entries = [entry('decided', 10.0, trigger='moving-target', event_at=10.0),
               entry('moved', 12.0, compliant=True, migration='3')]
    report = compliance.report('vm1', entries, 0.0, 20.0)
    assert report['violations'] == [] and report['seconds_compliant'] == 20.0


CATALOG = Catalog.load()


@pytest.mark.parametrize('current, wanted', [
    ({'sod:options': '1', 'sod:properties': 'C'}, {'sod:package': 'basic'}),
    ({'sod:package': 'hypervisor-protected', 'sod:moving_target': '60'},
     {'sod:options': '2', 'sod:properties': 'I'}),
    ({'sod:options': '1,2,3'}, {}),
    ({}, {'sod:options': '2', 'sod:properties': 'C,I'}),
    ({'sod:options': '1', 'sod:remediation': 'live'}, {'sod:options': '1,2'}),
])
def test_every_intermediate_request_is_at_least_as_strict_as_the_end(
        current, wanted):
    values, delete = request_obj.plan(current, wanted)
    final = request_for(CATALOG, wanted)
    state = dict(current, **values)
    seen = [dict(state)]
    for key in delete:
        state.pop(key)
        seen.append(dict(state))
    assert state == wanted
    for mapping in seen:
        assert final.satisfied_by(request_for(CATALOG, mapping).mask)


def test_a_remediation_ladder_is_written_as_sod_remediation():
    metadata = request_obj.to_metadata({'options': [2],
                                        'remediation': ['live', 'cold']})
    assert metadata['sod:remediation'] == 'live,cold'
    assert request_for(CATALOG, metadata)    # a well-formed request
