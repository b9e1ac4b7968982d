"""The API layer (sod_horizon.api.sod) on a real sod-nova database."""

import hashlib
import json

from novaclient.v2 import servers as nova_servers
from openstack_dashboard.api import _nova as horizon_nova
import pytest

from sod_horizon.api import sod
from sod_horizon.tests.unit.conftest import add_host
from sod_nova.db import api as db_api
from sod_nova.db import relocation as relocation_db
from sod_nova.policy import PolicyError
from sod_nova.relocation import triggers

MEDICAL = {sod.PACKAGE_KEY: 'medical-records'}


def server(metadata=None, host=None, project='p1', status='ACTIVE',
           admin_host=None):
    """A server as Horizon's ``api.nova`` hands it to a view: its wrapper
    around the novaclient ``Server`` Nova's API returned to a project."""
    info = {'id': 'vm-1', 'name': 'records', 'status': status,
            'tenant_id': project, 'metadata': metadata or {},
            'hostId': hashlib.sha224(
                (project + host).encode()).hexdigest() if host else ''}
    if admin_host:
        info['OS-EXT-SRV-ATTR:host'] = admin_host
    return horizon_nova.Server(
        nova_servers.Server(nova_servers.ServerManager(None), info), None)


def test_options_are_table_ii_with_option_4_refused():
    options = sod.options()
    assert [o['number'] for o in options] == [1, 2, 3, 4, 5, 6, 7]
    refused = [o['number'] for o in options if o['refused']]
    assert refused == [4]
    assert 'trusted' in options[3]['reason']


def test_packages_carry_the_description_from_the_packages_file():
    by_name = {p['name']: p for p in sod.packages()}
    assert by_name['medical-records']['options'] == [1, 5, 6, 7]
    assert 'medical records' in by_name['medical-records']['description']


def test_choice_metadata_builds_the_keys_the_filter_reads():
    assert sod.choice_metadata('medical-records') == MEDICAL
    assert sod.choice_metadata(None, [1, 2], ['C']) == {
        sod.OPTIONS_KEY: '1,2', sod.PROPERTIES_KEY: 'C'}
    assert sod.choice_metadata() == {}


@pytest.mark.parametrize('args, field, words', [
    (('no-such',), sod.PACKAGE_KEY, 'not a security package'),
    ((None, [4]), sod.OPTIONS_KEY, 'Cloud Manager'),
    ((None, [9]), sod.OPTIONS_KEY, 'not an option'),
    ((None, [1], []), sod.PROPERTIES_KEY, 'confidentiality, integrity'),
    ((None, [1], ['X']), sod.PROPERTIES_KEY, 'X'),
    ((None, None, ['C']), sod.PROPERTIES_KEY, 'without any option'),
])
def test_choice_metadata_names_the_bad_field(args, field, words):
    with pytest.raises(PolicyError) as caught:
        sod.choice_metadata(*args)
    assert caught.value.field == field
    assert words in caught.value.reason


def test_check_lists_satisfying_types_with_this_clouds_hosts(sod_nova_conf):
    add_host(sod_nova_conf, 'ds1', 'DataSafe')
    add_host(sod_nova_conf, 'ds2', 'DataSafe', state=db_api.UNTRUSTED)
    add_host(sod_nova_conf, 'hw1', 'HyperWall')
    answer = sod.check(MEDICAL)
    assert answer['valid'] and answer['satisfiable']
    assert answer['options'] == [1, 5, 6, 7]
    assert answer['server_types'] == [
        {'name': 'Bastion', 'hosts': 0, 'usable_hosts': 0},
        {'name': 'DataSafe', 'hosts': 2, 'usable_hosts': 1}]


def test_check_says_plainly_when_no_host_can(sod_nova_conf):
    add_host(sod_nova_conf, 'hw1', 'HyperWall')
    answer = sod.check(MEDICAL)
    assert not answer['satisfiable']
    assert 'this cloud has no host of type Bastion, DataSafe' in answer['message']

    add_host(sod_nova_conf, 'ds1', 'DataSafe', state=db_api.UNTRUSTED)
    assert 'DataSafe are not trusted now' in sod.check(MEDICAL)['message']


def test_stale_evidence_counts_as_unreachable(sod_nova_conf):
    add_host(sod_nova_conf, 'ds1', 'DataSafe', age=600)
    (row,) = sod.host_rows()
    assert row.state == db_api.UNREACHABLE
    assert not sod.check(MEDICAL)['satisfiable']


def test_check_reports_a_malformed_request_without_raising():
    answer = sod.check({sod.OPTIONS_KEY: '1,,2'})
    assert answer == {'valid': False, 'field': sod.OPTIONS_KEY,
                      'error': "empty item in '1,,2'", 'refused': False}


def test_compliance_finds_the_host_through_hostid(sod_nova_conf):
    add_host(sod_nova_conf, 'ds1', 'DataSafe')
    add_host(sod_nova_conf, 'hw1', 'HyperWall')
    assert sod.compliance(server(MEDICAL, host='ds1'))['compliant'] is True
    verdict = sod.compliance(server(MEDICAL, host='hw1'))
    assert verdict['compliant'] is False
    assert 'hw1' not in verdict['reason']
    assert verdict['reason'].startswith('its host (HyperWall) lacks')


def test_compliance_reads_the_flavor_floor_too(sod_nova_conf):
    add_host(sod_nova_conf, 'hw1', 'HyperWall')
    vm = server({}, host='hw1')
    assert sod.compliance(vm)['compliant'] is True
    verdict = sod.compliance(vm, {sod.OPTIONS_KEY: '5'})
    assert verdict['compliant'] is False
    assert 'Same OS' in verdict['request']


def test_compliance_of_untrusted_host_and_of_a_vm_without_host(sod_nova_conf):
    add_host(sod_nova_conf, 'ds1', 'DataSafe', state=db_api.UNTRUSTED,
             reason='PCR 10 mismatch')
    verdict = sod.compliance(server(MEDICAL, host='ds1'))
    assert verdict['compliant'] is False and 'PCR 10 mismatch' in verdict['reason']
    assert sod.compliance(server(MEDICAL, status='SHELVED_OFFLOADED'))[
        'compliant'] is None
    # An admin's view carries the host itself.
    assert sod.compliance(server(MEDICAL, admin_host='ds1'))['compliant'] is False


def test_compliance_names_malformed_metadata(sod_nova_conf):
    verdict = sod.compliance(server({'sod:options': 'x'}))
    assert verdict['errors'] == ["metadata sod:options: x is not an option (1-7)"]


def test_paused_vms_and_audit_trail(sod_nova_conf):
    store = relocation_db.RelocationStore(sod_nova_conf)
    store.task_open('vm-parked', triggers.TRUST_LOSS, 'ds1',
                    state=triggers.PARKED, reason='no compliant host')
    store.task_open('vm-moving', triggers.TRUST_LOSS, 'ds1')
    for n in range(3):
        store.audit_append({'event': 'decided', 'vm': 'vm-%d' % n,
                            'trigger': 'trust-loss', 'from': 'ds1',
                            'reason': 'r%d' % n, 'at': 1000.0 + n})
    assert [t.vm for t in sod.paused_vms()] == ['vm-parked']
    entries, broken = sod.audit_trail(limit=2)
    assert broken is None
    assert [e['seq'] for e in entries] == [3, 2]
    assert entries[0]['source'] == 'ds1' and entries[0]['reason'] == 'r2'


def test_audit_trail_reports_a_tampered_chain(sod_nova_conf):
    store = relocation_db.RelocationStore(sod_nova_conf)
    for n in range(2):
        store.audit_append({'event': 'decided', 'vm': 'vm-%d' % n})
    engine = db_api.get_engine(sod_nova_conf)
    with engine.begin() as connection:
        connection.exec_driver_sql(
            "UPDATE relocation_audit SET entry = ? WHERE seq = 1",
            (json.dumps({'event': 'decided', 'vm': 'vm-X'},
                        separators=(',', ':'), sort_keys=True),))
    _entries, broken = sod.audit_trail()
    assert broken is not None and broken.seq == 1
