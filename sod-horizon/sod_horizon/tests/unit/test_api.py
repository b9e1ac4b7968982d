"""The plugin's API layer (sod_horizon.api) against the real sod-nova-api."""

import json
import types

from openstack_dashboard.api import nova
from openstack_dashboard.test import helpers
import pytest

from sod_horizon.api import choice
from sod_horizon.api import sod
from sod_horizon.tests.unit.conftest import ApiTokens
from sod_horizon.tests.unit.conftest import add_host
from sod_nova.conf import CONF
from sod_nova.db import api as db_api
from sod_nova.db import relocation as relocation_db

MEDICAL = {choice.PACKAGE_KEY: 'medical-records'}


def test_options_are_table_ii_with_option_4_refused():
    options = choice.options()
    assert [o['number'] for o in options] == [1, 2, 3, 4, 5, 6, 7]
    assert [o['number'] for o in options if o['refused']] == [4]
    assert 'trusted' in options[3]['reason']


def test_body_gives_options_their_properties_and_a_package_none():
    assert choice.body('medical-records', [], ['C', 'I']) == {
        'package': 'medical-records'}
    assert choice.body(None, [2, 1], ['c']) == {'options': [1, 2],
                                                'properties': ['C']}
    assert choice.body() == {}


class ChoiceTests(ApiTokens, helpers.TestCase):
    """A project user (``member``) asks what a choice would get."""

    def test_packages_come_from_the_api_catalog(self):
        by_name = {p['name']: p for p in choice.packages(self.request)}
        assert 'Other VMs' in by_name['medical-records']['description']

    def test_check_lists_satisfying_types_with_this_clouds_hosts(self):
        add_host(CONF, 'ds1', 'DataSafe')
        add_host(CONF, 'ds2', 'DataSafe', state=db_api.UNTRUSTED)
        add_host(CONF, 'hw1', 'HyperWall')
        answer = choice.check(self.request, 'medical-records')
        assert answer['valid'] and answer['satisfiable']
        assert answer['metadata'] == MEDICAL
        assert answer['server_types'] == [
            {'name': 'Bastion', 'hosts': 0, 'usable_hosts': 0},
            {'name': 'DataSafe', 'hosts': 2, 'usable_hosts': 1}]
        assert 'ds1' not in json.dumps(answer)

    def test_check_says_plainly_when_no_host_can(self):
        add_host(CONF, 'hw1', 'HyperWall')
        answer = choice.check(self.request, 'medical-records')
        assert not answer['satisfiable']
        assert ('this cloud has no host of type Bastion, DataSafe'
                in answer['message'])
        add_host(CONF, 'ds1', 'DataSafe', state=db_api.UNTRUSTED)
        assert 'DataSafe are not trusted now' in choice.check(
            self.request, 'medical-records')['message']

    def test_stale_evidence_leaves_no_usable_host(self):
        add_host(CONF, 'ds1', 'DataSafe', age=600)
        answer = choice.check(self.request, 'medical-records')
        assert not answer['satisfiable']
        assert 'DataSafe are not trusted now' in answer['message']

    def test_a_refused_choice_is_a_verdict_naming_the_field(self):
        answer = choice.check(self.request, None, [4], ['C'])
        assert (answer['valid'], answer['field'], answer['refused']) == (
            False, choice.OPTIONS_KEY, True)
        assert 'Cloud Manager' in answer['error']
        answer = choice.check(self.request, 'no-such')
        assert (answer['field'], answer['refused']) == (choice.PACKAGE_KEY,
                                                        False)
        assert 'no-such' in answer['error']
        answer = choice.check(self.request, None, [1], [])
        assert answer['field'] == choice.PROPERTIES_KEY

    def test_nothing_asked_needs_no_call(self):
        assert choice.check(self.request)['metadata'] == {}


SNP_SPECS = {'hw:mem_encryption': 'true',
             'hw:mem_encryption_model': 'amd-sev-snp'}


class GuestTests(ApiTokens, helpers.TestCase):
    """The chosen flavor (Horizon's ``api.nova``, mocked as Horizon's own
    tests mock Nova) decides the guest the answer is for."""

    def flavor(self, name, specs):
        self.mock_flavor_get.return_value = types.SimpleNamespace(
            id='f-1', name=name, extra_specs=specs)
        self.mock_flavor_get_extras.return_value = specs

    @helpers.create_mocks({nova: ['flavor_get', 'flavor_get_extras']})
    def test_an_ordinary_flavor_on_a_cloud_of_snp_hosts(self):
        add_host(CONF, 'snp1', 'AMD-SEV-SNP')
        self.flavor('m1.small', {'hw:cpu_policy': 'dedicated'})
        answer = choice.check(self.request, None, [2], ['C', 'I'], 'f-1')
        assert answer['valid'] and not answer['satisfiable']
        assert answer['message'] == (
            'AMD-SEV-SNP protects C, I against Hypervisor only for a guest '
            'launched with hw:mem_encryption=true, hw:mem_encryption_model='
            'amd-sev-snp; flavor m1.small does not ask for it. The instance '
            'would not be scheduled.')
        self.mock_flavor_get.assert_called_once_with(
            self.request, 'f-1', get_extras=True)

    @helpers.create_mocks({nova: ['flavor_get', 'flavor_get_extras']})
    def test_an_snp_flavor_on_a_cloud_of_snp_hosts(self):
        add_host(CONF, 'snp1', 'AMD-SEV-SNP')
        self.flavor('m1.snp', SNP_SPECS)
        answer = choice.check(self.request, None, [2], ['C', 'I'], 'f-1')
        assert answer['satisfiable'] and 'message' not in answer
        assert {'name': 'AMD-SEV-SNP', 'hosts': 1, 'usable_hosts': 1} in (
            answer['server_types'])
        # Only the customer's choice goes to the server's metadata.
        assert answer['metadata'] == {'sod:options': '2',
                                      'sod:properties': 'C,I'}

    @helpers.create_mocks({nova: ['flavor_get', 'flavor_get_extras']})
    def test_no_sentence_where_this_cloud_has_no_such_host(self):
        add_host(CONF, 'hw1', 'HyperWall', state=db_api.UNTRUSTED)
        self.flavor('m1.small', {})
        answer = choice.check(self.request, None, [2], ['C', 'I'], 'f-1')
        assert not answer['satisfiable']
        assert answer['guest_notes'] == []
        assert 'HyperWall are not trusted now' in answer['message']

    @helpers.create_mocks({nova: ['flavor_get']})
    def test_an_unreadable_flavor_is_an_error_not_a_verdict(self):
        self.mock_flavor_get.side_effect = RuntimeError('no such flavor')
        with pytest.raises(sod.SodApiError) as caught:
            choice.check(self.request, None, [2], ['C', 'I'], 'f-9')
        assert caught.value.status == 503
        assert 'The flavor f-9 could not be read from Nova: no such flavor' in (
            str(caught.value))


class ErrorTests(ApiTokens, helpers.TestCase):

    def test_a_project_user_gets_the_apis_403(self):
        with pytest.raises(sod.SodApiError) as caught:
            sod.hosts(self.request)
        assert (caught.value.status, caught.value.code) == (
            403, 'sod.policy.forbidden')
        assert 'sod:hosts:list' in str(caught.value)

    def test_server_resources_without_nova_are_the_apis_503(self):
        with pytest.raises(sod.SodApiError) as caught:
            sod.security(self.request, 'vm-1')
        assert (caught.value.status, caught.value.code) == (
            503, 'sod.nova.unavailable')

    def test_the_endpoint_is_found_in_the_users_catalog(self):
        with self.settings(SOD_API_URL=None):
            with pytest.raises(Exception) as caught:
                sod.endpoint(self.request)
            assert 'security-on-demand' in str(caught.value)
            self.request.user.service_catalog.append({
                'type': 'security-on-demand', 'name': 'sod-nova',
                'endpoints': [
                    {'region': 'RegionOne', 'interface': 'public',
                     'url': 'http://sod.example/public/'},
                    {'region': 'RegionOne', 'interface': 'internal',
                     'url': 'http://sod.example/internal'}]})
            assert sod.endpoint(self.request) == 'http://sod.example/public'
            with self.settings(SOD_API_INTERFACE='internalURL'):
                assert sod.endpoint(self.request) == (
                    'http://sod.example/internal')


class AuditTests(ApiTokens, helpers.BaseAdminViewTests):
    api_user = 'admin'

    def append(self, count):
        store = relocation_db.RelocationStore(CONF)
        for n in range(count):
            store.audit_append(db_api.Context(), {
                'event': 'decided', 'vm': 'vm-%d' % n, 'at': 1000.0 + n})

    def test_audit_pages_with_the_apis_marker_and_verifies_each(self):
        self.append(3)
        first = sod.audit(self.request, limit=2)
        assert [e['seq'] for e in first['entries']] == [1, 2]
        assert first['verification']['intact'] and first['links']
        second = sod.audit(self.request, marker=2, limit=2)
        assert [e['seq'] for e in second['entries']] == [3]
        assert second['verification']['intact'] and not second['links']
        assert second['head_seq'] == 3

    def test_a_tampered_entry_breaks_its_page(self):
        self.append(2)
        engine = db_api.get_engine(CONF)
        with engine.begin() as connection:
            connection.exec_driver_sql(
                "UPDATE relocation_audit SET entry = ? WHERE seq = 2",
                (json.dumps({'event': 'decided', 'vm': 'vm-X'},
                            separators=(',', ':'), sort_keys=True),))
        verification = sod.audit(self.request)['verification']
        assert not verification['intact']
        assert verification['break']['seq'] == 2
