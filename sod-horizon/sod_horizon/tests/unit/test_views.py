"""The Django pages with Horizon's test helpers, answered by the real
sod-nova-api (see conftest.py). Nova calls the pages make themselves are
Horizon's mocked ``api.nova``; the API's own calls to Nova find no Nova
here, so the server pages are tested for how they show the API's error
(their success runs against real Nova in the browser test)."""

from django.contrib.messages.storage import default_storage
from django.urls import reverse
from novaclient.v2 import servers as nova_servers
from openstack_dashboard import api
from openstack_dashboard.dashboards.project.instances import tabs as instance_tabs
from openstack_dashboard.test import helpers

from sod_horizon.content.instance_security import forms as sec_forms
from sod_horizon.content.security_on_demand import views
from sod_horizon.tests.unit.conftest import ApiTokens
from sod_horizon.tests.unit.conftest import add_host
from sod_nova.conf import CONF
from sod_nova.db import api as db_api
from sod_nova.db import relocation as relocation_db

INDEX = reverse('horizon:project:instance_security:index')
ADMIN = reverse('horizon:admin:security_on_demand:index')


def change_url(instance_id):
    return reverse('horizon:project:instance_security:change',
                   args=[instance_id])


class ProjectViewTests(ApiTokens, helpers.TestCase):

    def server(self, sid, name, metadata=None):
        return api.nova.Server(nova_servers.Server(
            nova_servers.ServerManager(None), {
                'id': sid, 'name': name, 'status': 'ACTIVE',
                'tenant_id': self.tenant.id, 'metadata': metadata or {},
                'flavor': {'id': 'f1'}}), self.request)

    @helpers.create_mocks({api.nova: ['server_list']})
    def test_index_shows_the_apis_error_once_per_page(self):
        self.mock_server_list.return_value = ([
            self.server('a', 'records'), self.server('b', 'plain')], False)

        response = self.client.get(INDEX)

        self.assertTemplateUsed(response, 'project/instance_security/index.html')
        rows = {r.id: r for r in response.context['table'].data}
        self.assertEqual({'a', 'b'}, set(rows))
        self.assertIsNone(rows['a'].compliant)
        self.assertIn('Nova is unavailable', rows['a'].reason)
        self.assertContains(response, 'Unknown')
        self.assertMessageCount(response, error=1)
        # The project's own servers only: Nova is asked with the user's
        # token and no all_tenants.
        self.mock_server_list.assert_called_once_with(
            helpers.IsHttpRequest(), search_opts={'marker': None, 'paginate': True})

    @helpers.create_mocks({api.nova: ['server_list']})
    def test_index_pages_like_project_instances(self):
        self.mock_server_list.return_value = (
            [self.server('a', 'first-page')], True)
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

    def test_change_form_without_an_answer_goes_back_with_a_message(self):
        response = self.client.get(change_url('a'))
        self.assertRedirectsNoFollow(response, INDEX)
        self.assertMessageCount(error=1)

    def post_change(self, **data):
        return self.client.post(change_url('a'), dict(instance_id='a', **data))

    def test_change_security_refuses_an_unsatisfiable_choice(self):
        response = self.post_change(package='medical-records')
        self.assertFormErrors(response, 1)
        self.assertContains(response, 'No server in this cloud can satisfy')

    def test_change_security_says_which_field_is_wrong(self):
        response = self.post_change(options=['1'], properties=[])
        self.assertFormErrors(response, 1)
        self.assertContains(response, 'choose confidentiality, integrity or both')

    def test_change_security_shows_the_apis_error_on_the_write(self):
        add_host(CONF, 'ds1', 'DataSafe')
        response = self.post_change(package='medical-records')
        # Valid (the check passed); the write needs Nova, which the API
        # cannot reach here: the API's error, no success, and the form
        # again (whose instance name the API could not give either).
        self.assertNoFormErrors(response)
        self.assertMessageCount(response, error=2)
        self.assertContains(response, 'Unable to change the security of '
                            'instance &quot;a&quot;: Nova is unavailable')

    def test_change_form_offers_the_apis_packages_and_not_option_4(self):
        form = sec_forms.ChangeSecurityForm(self.request)
        self.assertIn('medical-records',
                      [c for c, _ in form.fields['package'].choices])
        self.assertNotIn('4', [c for c, _ in form.fields['options'].choices])

    @helpers.create_mocks({api.neutron: ['is_extension_supported']})
    def test_instance_security_tab_shows_the_apis_error(self):
        self.mock_is_extension_supported.return_value = False  # other tabs
        self.request._messages = default_storage(self.request)
        group = instance_tabs.InstanceDetailTabs(
            self.request, instance=self.server('a', 'r'))
        html = group.get_tab('sod_security').render()
        self.assertIn('sod-security-tab', html)
        self.assertNotIn('Compliant Now', html)
        self.assertEqual(1, len(list(self.request._messages)))

    def test_admin_page_is_not_for_projects(self):
        response = self.client.get(ADMIN)
        self.assertEqual(403, response.status_code)


class AdminViewTests(ApiTokens, helpers.BaseAdminViewTests):
    api_user = 'admin'

    def test_admin_page_shows_trust_and_a_verified_audit_page(self):
        add_host(CONF, 'ds1', 'DataSafe')
        add_host(CONF, 'hw1', 'HyperWall', state=db_api.UNTRUSTED,
                 reason='PCR 10 mismatch')
        add_host(CONF, 'tpm1', 'TPM', age=3600)
        store = relocation_db.RelocationStore(CONF)
        store.audit_append(db_api.Context(), {
            'event': 'parked', 'vm': 'vm-p', 'from': 'hw1',
            'trigger': 'trust-loss', 'reason': 'no host', 'at': 1000.0})

        response = self.client.get(ADMIN)

        self.assertTemplateUsed(response, 'admin/security_on_demand/index.html')
        hosts = {r.host: r for r in response.context['hosts_table'].data}
        self.assertEqual('trusted', hosts['ds1'].state)
        self.assertEqual('untrusted', hosts['hw1'].state)
        self.assertEqual('unreachable', hosts['tpm1'].state)
        self.assertIn('has expired', hosts['tpm1'].reason)
        (entry,) = response.context['audit_table'].data
        self.assertEqual(('parked', 'vm-p'), (entry['event'], entry['vm']))
        self.assertContains(response, 'PCR 10 mismatch')
        self.assertContains(response, 'id="sod-audit-verified"')
        self.assertContains(response, 'Entries 1 to 1 of 1 verify')
        # Paused VMs come from GET /compliance, which asks Nova: not here.
        self.assertEqual([], response.context['parked_table'].data)
        self.assertMessageCount(response, error=1)

    def test_admin_page_pages_through_the_audit_trail(self):
        store = relocation_db.RelocationStore(CONF)
        for n in range(views.AUDIT_ROWS + 2):
            store.audit_append(db_api.Context(), {
                'event': 'decided', 'vm': 'vm-%d' % n, 'at': 1000.0 + n})
        response = self.client.get(ADMIN)
        seqs = [e['seq'] for e in response.context['audit_table'].data]
        self.assertEqual(list(range(1, views.AUDIT_ROWS + 1)), seqs)
        self.assertContains(response, 'audit_marker=%d' % views.AUDIT_ROWS)
        self.assertContains(response, 'audit_marker=2')   # newest entries
        response = self.client.get(ADMIN + '?audit_marker=%d'
                                   % views.AUDIT_ROWS)
        seqs = [e['seq'] for e in response.context['audit_table'].data]
        self.assertEqual([views.AUDIT_ROWS + 1, views.AUDIT_ROWS + 2], seqs)
        self.assertContains(response, 'Entries %d to %d of %d verify' % (
            views.AUDIT_ROWS + 1, views.AUDIT_ROWS + 2, views.AUDIT_ROWS + 2))
