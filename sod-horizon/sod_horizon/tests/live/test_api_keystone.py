"""sod-nova-api behind the real keystonemiddleware and a real Keystone.

The browser tests' LiveStack without Glance and Horizon: Keystone in a
subprocess, Nova's API behind keystonemiddleware, the trust monitor and
agents, and sod-nova-api on a loopback port with ``[sod_api] auth_strategy =
keystone``, registered in Keystone's catalog as ``security-on-demand``
(what Horizon's plugin uses in the browser test); callers use real tokens,
and the API reaches Nova with the caller's token through the service
catalog keystonemiddleware passes on. Here because Keystone is installed in
the tox ``horizon`` env.
"""

import json
import os
import subprocess
import sys
import time

import pytest
import requests

from sod_horizon.tests.browser import stack as stack_mod

#: Nova's GlanceFixture image (the in-process Nova resolves images there).
IMAGE = '155d900f-4e14-4e4c-a73d-069cbf4541e6'
SOD_HOSTS = {'hw-1': 'HyperWall', 'hw-2': 'HyperWall'}


@pytest.fixture(scope='module')
def stack():
    # LiveStack's Keystone, Nova, sod-nova and sod-nova-api; no Glance, no
    # Horizon.
    with stack_mod.LiveStack(sod_hosts=SOD_HOSTS, relocation=False,
                             glance=False, horizon=False) as live:
        yield live


def token(live, user=None, password=None, project=None):
    return live.session(user, password, project).get_token()


def api(live, path, tok, method='GET', body=None):
    headers = {'X-Auth-Token': tok} if tok else {}
    return requests.request(method, live.api_url + path, headers=headers,
                            json=body, timeout=120)


@pytest.fixture(scope='module')
def demo_server(stack):
    sess = stack.session(stack.demo_username, stack.demo_password,
                         stack.demo_project)
    server = sess.post(stack.nova_url + '/servers', json={'server': {
        'name': 'demo-vm', 'imageRef': IMAGE, 'flavorRef': '1',
        'networks': 'none', 'metadata': {'sod:options': '1'}}},
        headers={'OpenStack-API-Version': 'compute 2.90'}).json()['server']
    deadline = time.monotonic() + 120
    while True:
        shown = sess.get(stack.nova_url + '/servers/%s' % server['id']
                         ).json()['server']
        if shown['status'] in ('ACTIVE', 'ERROR'):
            break
        assert time.monotonic() < deadline, shown['status']
        time.sleep(0.2)
    assert shown['status'] == 'ACTIVE', shown
    return shown


def test_no_token_or_a_bad_token_is_401(stack):
    for tok in (None, 'not-a-token'):
        resp = api(stack, '/catalog', tok)
        assert resp.status_code == 401
        # sod-nova-api's error format, not keystonemiddleware's own body.
        assert resp.headers['Content-Type'].startswith('application/json')
        (error,) = resp.json()['errors']
        assert error['status'] == 401
        assert error['code'] == 'sod.unauthenticated'
        assert error['title'] == 'Unauthorized'
        assert 'requires authentication' in error['detail']
        assert error['request_id'].startswith('req-')
        # ... still naming Keystone, where a client gets a token.
        assert 'Keystone uri=' in resp.headers['WWW-Authenticate']
    assert requests.get(stack.api_url + '/', timeout=60).status_code == 200


def test_keystone_roles_decide_through_policy(stack):
    demo = token(stack, stack.demo_username, stack.demo_password,
                 stack.demo_project)
    assert api(stack, '/catalog', demo).status_code == 200
    resp = api(stack, '/hosts', demo)
    assert resp.status_code == 403
    assert resp.json()['errors'][0]['code'] == 'sod.policy.forbidden'
    resp = api(stack, '/hosts', token(stack))
    assert resp.status_code == 200
    assert {h['name'] for h in resp.json()['hosts']} == set(SOD_HOSTS)


def test_a_customer_reads_and_sets_security_with_their_token(stack,
                                                             demo_server):
    demo = token(stack, stack.demo_username, stack.demo_password,
                 stack.demo_project)
    path = '/servers/%s/security' % demo_server['id']
    resp = api(stack, path, demo)
    assert resp.status_code == 200, resp.text
    security = resp.json()['security']
    assert security['compliant'] is True
    assert 'host' not in security
    assert not any(h in json.dumps(security) for h in SOD_HOSTS)
    resp = api(stack, path, demo, method='PUT', body={'options': [1, 2]})
    assert resp.status_code == 200, resp.text
    admin = stack.admin_session
    metadata = admin.get(stack.nova_url + '/servers/%s/metadata'
                         % demo_server['id']).json()['metadata']
    assert metadata == {'sod:options': '1,2', 'sod:properties': 'C,I'}
    resp = api(stack, path, token(stack))
    assert resp.json()['security']['host'] in SOD_HOSTS


def test_another_project_gets_404_from_nova(stack, demo_server):
    admin = stack.admin_session
    kurl = stack.keystone_url
    project = admin.post(kurl + '/projects', json={'project': {
        'name': 'other', 'domain_id': 'default'}}).json()['project']
    user = admin.post(kurl + '/users', json={'user': {
        'name': 'eve', 'password': 'eve-pass', 'domain_id': 'default',
        'default_project_id': project['id']}}).json()['user']
    roles = {r['name']: r['id']
             for r in admin.get(kurl + '/roles').json()['roles']}
    admin.put(kurl + '/projects/%s/users/%s/roles/%s' % (
        project['id'], user['id'], roles['member']))
    eve = token(stack, 'eve', 'eve-pass', 'other')
    resp = api(stack, '/servers/%s/security' % demo_server['id'], eve)
    assert resp.status_code == 404
    assert resp.json()['errors'][0]['code'] == 'sod.server.not_found'


def test_openstack_finds_the_api_in_the_catalog(stack, demo_server):
    openstack = os.path.join(os.path.dirname(sys.executable), 'openstack')
    env = {k: v for k, v in os.environ.items() if not k.startswith('OS_')}
    env.update({
        'OS_AUTH_URL': stack.keystone_url, 'OS_IDENTITY_API_VERSION': '3',
        'OS_USERNAME': stack.demo_username,
        'OS_PASSWORD': stack.demo_password,
        'OS_PROJECT_NAME': stack.demo_project,
        'OS_USER_DOMAIN_ID': 'default', 'OS_PROJECT_DOMAIN_ID': 'default',
        'OS_REGION_NAME': stack_mod.REGION})
    proc = subprocess.run([openstack, 'server', 'security', 'show',
                           demo_server['id'], '-f', 'json'],
                          capture_output=True, text=True, env=env,
                          check=False)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)['Compliant'] is True
    proc = subprocess.run([openstack, 'sod', 'host', 'list'],
                          capture_output=True, text=True, env=env,
                          check=False)
    assert proc.returncode == 1 and 'HTTP 403' in proc.stderr
