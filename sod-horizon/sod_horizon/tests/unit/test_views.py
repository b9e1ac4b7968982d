"""The Django pages, with Horizon's test helpers: Nova calls are Horizon's
mocked ``api.nova`` functions; sod-nova's database is real."""

import hashlib

from django.urls import reverse
from novaclient.v2 import servers as nova_servers
from openstack_dashboard import api
from openstack_dashboard.dashboards.project.instances import tabs as instance_tabs
from openstack_dashboard.test import helpers

from sod_horizon.api import sod
from sod_horizon.tests.unit.conftest import add_host
from sod_nova.db import api as db_api
from sod_nova.db import relocation as relocation_db
from sod_nova.relocation import triggers

INDEX = reverse('horizon:project:instance_security:index')
ADMIN = reverse('horizon:admin:security_on_demand:index')


def change_url(instance_id):
    return reverse('horizon:project:instance_security:change',
                   args=[instance_id])


class ProjectViewTests(helpers.TestCase):

    def server(self, sid, name, metadata, host):
        project = self.tenant.id
        # What api.nova returns: Horizon's wrapper (which hides hostId).
        return api.nova.Server(nova_servers.Server(nova_servers.ServerManager(None), {
            'id': sid, 'name': name, 'status': 'ACTIVE', 'tenant_id': project,
            'metadata': metadata, 'flavor': {'id': 'f1'},
            'hostId': hashlib.sha224((project + host).encode()).hexdigest()}),
            self.request)

    @helpers.create_mocks({api.nova: ['server_list', 'flavor_get_extras']})
    def test_index_shows_request_and_compliance(self):
        conf = sod.get_conf()
        add_host(conf, 'ds1', 'DataSafe')
        add_host(conf, 'hw1', 'HyperWall')
        servers = [
            self.server('a', 'records-ok', {'sod:package': 'medical-records'},
                        'ds1'),
            self.server('b', 'records-bad', {'sod:package': 'medical-records'},
                        'hw1'),
            self.server('c', 'plain', {}, 'hw1')]
        self.mock_server_list.return_value = (servers, False)
        self.mock_flavor_get_extras.return_value = {}

        response = self.client.get(INDEX)

        self.assertTemplateUsed(response, 'project/instance_security/index.html')
        rows = {r.id: r for r in response.context['table'].data}
        self.assertTrue(rows['a'].compliant)
        self.assertFalse(rows['b'].compliant)
        self.assertIn('lacks', rows['b'].reason)
        self.assertNotIn('hw1', rows['b'].reason)
        self.assertEqual('no protection', rows['c'].request)
        self.assertContains(response, 'Change Security')
        # The project's own servers only: Nova is asked with the user's
        # token and no all_tenants.
        self.mock_server_list.assert_called_once_with(
            helpers.IsHttpRequest(), search_opts={'marker': None, 'paginate': True})
        self.mock_flavor_get_extras.assert_called_once_with(
            helpers.IsHttpRequest(), 'f1', raw=True)

    @helpers.create_mocks({api.nova: ['server_list', 'flavor_get_extras']})
    def test_index_pages_like_project_instances(self):
        self.mock_server_list.return_value = (
            [self.server('a', 'first-page', {}, 'x')], True)
        self.mock_flavor_get_extras.return_value = {}
        response = self.client.get(INDEX + '?marker=z')
        self.mock_server_list.assert_called_once_with(
            helpers.IsHttpRequest(), search_opts={'marker': 'z', 'paginate': True})
        self.assertContains(response, 'marker=a')  # the "Next" link

    @helpers.create_mocks({api.nova: ['server_list']})
    def test_index_survives_nova_errors(self):
        self.mock_server_list.side_effect = self.exceptions.nova
        response = self.client.get(INDEX)
        self.assertEqual(200, response.status_code)
        self.assertEqual([], response.context['table'].data)
        self.assertMessageCount(response, error=1)

    @helpers.create_mocks({api.nova: ['server_get', 'server_metadata_update',
                                      'server_metadata_delete']})
    def test_change_security_rewrites_the_metadata(self):
        add_host(sod.get_conf(), 'ds1', 'DataSafe')
        server = self.server('a', 'records', {
            'sod:options': '1', 'sod:properties': 'C', 'other': 'kept'}, 'ds1')
        self.mock_server_get.return_value = server

        response = self.client.post(change_url('a'), {
            'instance_id': 'a', 'package': 'medical-records',
            'properties': ['C', 'I']})

        self.assertNoFormErrors(response)
        self.assertRedirectsNoFollow(response, INDEX)
        self.mock_server_metadata_update.assert_called_once_with(
            helpers.IsHttpRequest(), 'a', {'sod:package': 'medical-records'})
        self.mock_server_metadata_delete.assert_called_once_with(
            helpers.IsHttpRequest(), 'a', ['sod:options', 'sod:properties'])

    @helpers.create_mocks({api.nova: ['server_get', 'server_metadata_update']})
    def test_change_security_refuses_an_unsatisfiable_choice(self):
        self.mock_server_get.return_value = self.server('a', 'r', {}, 'x')
        response = self.client.post(change_url('a'), {
            'instance_id': 'a', 'package': 'medical-records'})
        self.assertFormErrors(response, 1)
        self.assertContains(response, 'No server in this cloud can satisfy')
        self.mock_server_metadata_update.assert_not_called()

    @helpers.create_mocks({api.nova: ['server_get', 'server_metadata_update']})
    def test_change_security_says_which_field_is_wrong(self):
        self.mock_server_get.return_value = self.server('a', 'r', {}, 'x')
        response = self.client.post(change_url('a'), {
            'instance_id': 'a', 'options': ['1'], 'properties': []})
        self.assertFormErrors(response, 1)
        self.assertContains(response, 'choose confidentiality, integrity or both')
        self.mock_server_metadata_update.assert_not_called()

    @helpers.create_mocks({api.nova: ['server_get']})
    def test_change_form_starts_from_the_current_choice(self):
        self.mock_server_get.return_value = self.server(
            'a', 'r', {'sod:options': '1,5', 'sod:properties': 'I'}, 'x')
        response = self.client.get(change_url('a'))
        form = response.context['form']
        self.assertEqual(['1', '5'], form.initial['options'])
        self.assertEqual(['I'], form.initial['properties'])
        self.assertNotIn('4', [c for c, _ in form.fields['options'].choices])

    @helpers.create_mocks({api.nova: ['flavor_get_extras'],
                           api.neutron: ['is_extension_supported']})
    def test_instance_details_get_a_security_tab(self):
        add_host(sod.get_conf(), 'hw1', 'HyperWall')
        server = self.server('a', 'r', {'sod:package': 'medical-records'}, 'hw1')
        self.mock_flavor_get_extras.return_value = {'sod:options': '2'}
        self.mock_is_extension_supported.return_value = False  # other tabs
        group = instance_tabs.InstanceDetailTabs(self.request, instance=server)

        html = group.get_tab('sod_security').render()

        self.assertIn('C, I against Hypervisor', html)  # the flavor's floor too
        self.assertIn('its host (HyperWall) lacks', html)
        self.assertIn(change_url('a'), html)
        self.assertNotIn('hw1', html)

    def test_admin_page_is_not_for_projects(self):
        response = self.client.get(ADMIN)
        self.assertEqual(403, response.status_code)


class AdminViewTests(helpers.BaseAdminViewTests):

    @helpers.create_mocks({api.nova: ['server_get']})
    def test_admin_page_shows_trust_parked_and_audit(self):
        conf = sod.get_conf()
        add_host(conf, 'ds1', 'DataSafe')
        add_host(conf, 'hw1', 'HyperWall', state=db_api.UNTRUSTED,
                 reason='PCR 10 mismatch')
        add_host(conf, 'tpm1', 'TPM', age=3600)
        store = relocation_db.RelocationStore(conf)
        store.task_open('vm-p', triggers.TRUST_LOSS, 'hw1', reason='no host',
                        state=triggers.PARKED)
        store.audit_append({'event': 'parked', 'vm': 'vm-p', 'from': 'hw1',
                            'trigger': 'trust-loss', 'reason': 'no host'})
        self.mock_server_get.return_value = nova_servers.Server(
            nova_servers.ServerManager(None), {'id': 'vm-p', 'name': 'held'})

        response = self.client.get(ADMIN)

        self.assertTemplateUsed(response, 'admin/security_on_demand/index.html')
        hosts = {r.host: r for r in response.context['hosts_table'].data}
        self.assertEqual('trusted', hosts['ds1'].state)
        self.assertEqual('untrusted', hosts['hw1'].state)
        self.assertEqual('unreachable', hosts['tpm1'].state)
        self.assertIn('has expired', hosts['tpm1'].reason)
        (parked,) = response.context['parked_table'].data
        self.assertEqual(('vm-p', 'held'), (parked.vm, parked.name))
        (entry,) = response.context['audit_table'].data
        self.assertEqual('parked', entry['event'])
        self.assertContains(response, 'PCR 10 mismatch')
        self.assertContains(response, 'The audit chain of 1 entry verifies.')
