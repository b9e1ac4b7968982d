"""The /api/sod/ REST views with Horizon's authenticated test user, answered
by the real sod-nova-api (see conftest.py)."""

import json
import types

from django import urls
from openstack_auth import utils as auth_utils
from openstack_dashboard.api import nova
from openstack_dashboard.test import helpers

from sod_horizon.api import rest
from sod_horizon.tests.unit.conftest import ApiTokens
from sod_horizon.tests.unit.conftest import add_host
from sod_nova.conf import CONF

CHECK = '/api/sod/check/'


class Response:
    """What a browser gets back: status and decoded body."""

    def __init__(self, response):
        self.status_code = response.status_code
        self.content = response.content

    def json(self):
        return json.loads(self.content)


class RestTests(ApiTokens, helpers.TestCase):
    """Requests go through Django's URL resolver to the registered views
    (Django's test client cannot carry Horizon's ``JSONResponse``, whose
    ``json`` attribute it overwrites)."""

    def call(self, request):
        request.user = auth_utils.get_user(request)
        match = urls.resolve(request.path)
        return Response(match.func(request, *match.args, **match.kwargs))

    def post(self, body, raw=None):
        return self.call(self.factory.post(
            CHECK, raw if raw is not None else json.dumps(body),
            content_type='application/json',
            HTTP_X_REQUESTED_WITH='XMLHttpRequest'))

    def test_views_are_registered_under_api_sod(self):
        self.assertIs(rest.Check, urls.resolve(CHECK).func.view_class)

    def test_choices_lists_packages_and_options(self):
        response = self.call(self.factory.get(
            '/api/sod/choices/', HTTP_X_REQUESTED_WITH='XMLHttpRequest'))
        self.assertEqual(200, response.status_code)
        data = response.json()
        self.assertIn('medical-records', [p['name'] for p in data['packages']])
        self.assertEqual(7, len(data['options']))

    def test_check_a_package(self):
        add_host(CONF, 'ds1', 'DataSafe')
        response = self.post({'package': 'medical-records', 'options': [],
                              'properties': ['C', 'I']})
        self.assertEqual(200, response.status_code)
        data = response.json()
        self.assertTrue(data['valid'])
        self.assertTrue(data['satisfiable'])
        self.assertEqual({'sod:package': 'medical-records'}, data['metadata'])
        self.assertEqual(['Bastion', 'DataSafe'],
                         [t['name'] for t in data['server_types']])

    def test_check_options_with_properties(self):
        data = self.post({'options': [1, 2], 'properties': ['I']}).json()
        self.assertEqual({'sod:options': '1,2', 'sod:properties': 'I'},
                         data['metadata'])
        self.assertFalse(data['satisfiable'])
        self.assertIn('this cloud has no host of type', data['message'])

    @helpers.create_mocks({nova: ['flavor_get', 'flavor_get_extras']})
    def test_check_for_the_chosen_flavor(self):
        add_host(CONF, 'snp1', 'AMD-SEV-SNP')
        self.mock_flavor_get.return_value = types.SimpleNamespace(
            id='f-1', name='m1.small', extra_specs={})
        self.mock_flavor_get_extras.return_value = {}
        data = self.post({'options': [2], 'properties': ['C', 'I'],
                          'flavor_id': 'f-1'}).json()
        self.assertTrue(data['valid'])
        self.assertFalse(data['satisfiable'])
        self.assertIn('only for a guest launched with hw:mem_encryption=true, '
                      'hw:mem_encryption_model=amd-sev-snp; flavor m1.small '
                      'does not ask for it', data['message'])

    def test_refused_choice_is_a_verdict_not_an_error(self):
        data = self.post({'options': [4], 'properties': ['C']}).json()
        self.assertFalse(data['valid'])
        self.assertTrue(data['refused'])
        self.assertEqual('sod:options', data['field'])

    def test_malformed_bodies_get_400_with_the_reason(self):
        for body, words in (
                ({'options': '1,2'}, "'options' must be a list of numbers"),
                ({'options': [True]}, "'options' must be a list of numbers"),
                ({'properties': 'C'}, "'properties' must be a list of strings"),
                ({'package': 3}, "'package' must be a string"),
                ({'flavor_id': 3}, "'flavor_id' must be a string"),
                ({'colour': 'red'}, 'unknown field(s): colour'),
                ([1, 2], 'the body must be a JSON object')):
            response = self.post(body)
            self.assertEqual(400, response.status_code, body)
            self.assertIn(words, response.content.decode(), body)

    def test_an_api_that_cannot_answer_is_an_error_not_a_verdict(self):
        # The step fails closed on an error (security.controller.js).
        with self.settings(SOD_API_URL='http://sod-api.test:81'):
            response = self.post({'options': [1]})
        self.assertEqual(503, response.status_code)
        self.assertIn('sod-nova-api at http://sod-api.test:81',
                      response.content.decode())

    def test_not_json_gets_400(self):
        response = self.post(None, raw='not json')
        self.assertEqual(400, response.status_code)
