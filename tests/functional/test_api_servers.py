"""sod-nova-api's server resources against real Nova, the trust monitor and
the migration manager (the embedded cloud).

The API runs in-process with ``auth_strategy = noauth2``: the caller's
identity comes from the request headers and is forwarded to Nova's API,
which (in the embedded cloud) trusts the same headers, so Nova's own policy
applies to every read and write made for the caller. Keystone and
keystonemiddleware in front of both are covered by the Horizon env's test
(sod-horizon/sod_horizon/tests/browser/test_api_keystone.py).
"""

import json
import os
import subprocess
import sys

import pytest
import webob

from sod_nova.api import deploy
from sod_nova.cloud import api_server
from sod_nova.cloud import embedded
from sod_nova.cloud import noauth

ARCH = 'HyperWall'


@pytest.fixture(scope='module')
def stack():
    with embedded.EmbeddedCloud() as cloud:
        conf = cloud.conf
        base_url = cloud.nova.api_fixture.base_url
        overrides = [('auth_strategy', 'noauth2', 'sod_api'),
                     ('endpoint_override', base_url, 'nova')]
        for name, value, group in overrides:
            conf.set_override(name, value, group)
        try:
            for host in ('hw1', 'hw2'):
                cloud.add_host(host, ARCH)
            service = noauth.connect(base_url, 'sod-service')
            app = deploy.deploy(conf, nova_service=service)
            project = cloud.nova.api_fixture.project_id
            with api_server.LoopbackAPI(conf, nova_service=service) as http:
                cloud.api_url = http.url
                yield cloud, app, project
        finally:
            for name, _value, group in overrides:
                conf.clear_override(name, group)


def persona(user, project, roles):
    return {'X-Auth-Token': '%s:%s' % (user, project), 'X-Roles': roles}


def call(app, path, who, method='GET', body=None):
    headers = dict(who)
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers['Content-Type'] = 'application/json'
    resp = webob.Request.blank(path, method=method, headers=headers,
                               body=data).get_response(app)
    return resp.status_int, resp.json


@pytest.fixture
def people(stack):
    _cloud, _app, project = stack
    return {
        'admin': persona('admin', 'admin-project', 'admin,member,reader'),
        'alice': persona('alice', project, 'member,reader'),
        'rita': persona('rita', project, 'reader'),
        'bob': persona('bob', 'project-b', 'member,reader'),
    }


@pytest.fixture
def server(stack):
    cloud = stack[0]
    created = cloud.nova.create_server(
        metadata={'sod:options': '1', 'sod:properties': 'C,I'})
    assert created['status'] == 'ACTIVE'
    yield created
    cloud.nova.admin_api.delete_server(created['id'])


def test_a_project_reader_sees_the_verdict_but_no_host(stack, people, server):
    _cloud, app, _project = stack
    status, body = call(app, '/servers/%s/security' % server['id'],
                        people['rita'])
    assert status == 200, body
    security = body['security']
    assert security['compliant'] is True
    assert security['requested']['metadata']['keys'] == {
        'sod:options': '1', 'sod:properties': 'C,I'}
    assert security['requested']['metadata']['request']['matrix'] == {
        'Other VMs': ['C', 'I']}
    assert security['effective']['matrix'] == {'Other VMs': ['C', 'I']}
    assert ARCH in security['satisfied_by']
    assert security['paused']['paused'] is False
    assert 'host' not in security and 'host_state' not in security
    assert 'hw1' not in json.dumps(security) and 'hw2' not in json.dumps(
        security)


def test_the_operator_sees_the_host(stack, people, server):
    _cloud, app, _project = stack
    status, body = call(app, '/servers/%s/security' % server['id'],
                        people['admin'])
    assert status == 200
    assert body['security']['host'] == server['OS-EXT-SRV-ATTR:host']
    assert body['security']['host_state']['state'] == 'trusted'


def test_another_projects_server_is_404_through_novas_own_policy(
        stack, people, server):
    _cloud, app, _project = stack
    for method, body in (('GET', None), ('PUT', {'options': [1, 2]})):
        status, reply = call(app, '/servers/%s/security' % server['id'],
                             people['bob'], method=method, body=body)
        assert status == 404, reply
        assert reply['errors'][0]['code'] == 'sod.server.not_found'
    status, reply = call(app, '/servers/%s/compliance' % server['id'],
                         people['bob'])
    assert status == 404


def test_a_reader_may_not_set_security(stack, people, server):
    _cloud, app, _project = stack
    status, reply = call(app, '/servers/%s/security' % server['id'],
                         people['rita'], method='PUT',
                         body={'options': [1, 2]})
    assert status == 403
    assert reply['errors'][0]['code'] == 'sod.policy.forbidden'


def test_a_member_sets_and_clears_security_through_nova(stack, people,
                                                        server):
    cloud, app, _project = stack
    path = '/servers/%s/security' % server['id']
    status, body = call(app, path, people['alice'], method='PUT',
                        body={'options': [1, 2], 'moving_target': 3600})
    assert status == 200, body
    metadata = cloud.nova.get_server(server['id'])['metadata']
    assert metadata == {'sod:options': '1,2', 'sod:properties': 'C,I',
                        'sod:moving_target': '3600'}
    assert body['security']['effective']['matrix'] == {
        'Other VMs': ['C', 'I'], 'Hypervisor': ['C', 'I']}
    status, body = call(app, path, people['alice'], method='PUT',
                        body={'package': 'basic'})
    assert status == 200
    assert cloud.nova.get_server(server['id'])['metadata'] == {
        'sod:package': 'basic'}
    status, body = call(app, path, people['alice'], method='PUT', body={})
    assert status == 200
    assert cloud.nova.get_server(server['id'])['metadata'] == {}
    assert body['security']['effective']['matrix'] == {}


@pytest.mark.parametrize('body, code', [
    ({'options': [4]}, 'sod.security.invalid'),
    ({'options': [1, 2, 3, 5, 6, 7]}, 'sod.security.unsatisfiable'),
    ({'options': 'all'}, 'sod.request.malformed'),
])
def test_a_bad_request_never_reaches_nova(stack, people, server, body, code):
    cloud, app, _project = stack
    status, reply = call(app, '/servers/%s/security' % server['id'],
                         people['alice'], method='PUT', body=body)
    assert status == 400
    assert reply['errors'][0]['code'] == code
    assert cloud.nova.get_server(server['id'])['metadata'] == {
        'sod:options': '1', 'sod:properties': 'C,I'}


def test_an_unknown_server_is_404(stack, people):
    _cloud, app, _project = stack
    status, reply = call(app, '/servers/%s/security'
                         % '00000000-0000-0000-0000-000000000000',
                         people['admin'])
    assert status == 404


def test_compliance_names_the_violation_and_the_migration_that_ended_it(
        stack, people, server):
    cloud, app, _project = stack
    host = server['OS-EXT-SRV-ATTR:host']
    other = 'hw2' if host == 'hw1' else 'hw1'
    cloud.fleet.backend(host).start_attack()
    try:
        cloud.wait_for_state(host, ('untrusted',))
        assert cloud.settle()
        moved = cloud.nova.get_server(server['id'])
        assert moved['OS-EXT-SRV-ATTR:host'] == other
        path = '/servers/%s/compliance' % server['id']
        status, body = call(app, path, people['admin'])
        assert status == 200, body
        report = body['compliance']
        [violation] = report['violations']
        assert violation['trigger'] == 'trust-loss'
        assert violation['ongoing'] is False
        assert violation['ended_by']['event'] == 'moved'
        assert violation['ended_by']['to'] == other
        migrations = cloud.nova.admin_api.api_get(
            '/os-migrations?instance_uuid=%s' % server['id']
        ).body['migrations']
        assert violation['ended_by']['migration'] in {
            str(m['id']) for m in migrations}
        assert violation['seconds'] > 0
        assert report['seconds_compliant'] + violation['seconds'] == \
            pytest.approx(report['window']['seconds'], abs=1e-3)
        # The customer sees the same record without host names.
        status, body = call(app, path, people['rita'])
        assert status == 200
        [seen] = body['compliance']['violations']
        assert seen['ended_by']['to'] == 'its server'
        assert host not in json.dumps(body) and other not in json.dumps(body)
        # ... and in the project's report.
        status, body = call(app, '/compliance', people['rita'])
        assert status == 200
        assert server['id'] in {r['server_id'] for r in body['compliance']}
    finally:
        cloud.fleet.backend(host).stop_attack()
        cloud.wait_for_state(host, ('trusted',))


def test_every_projects_report_is_for_the_operator_only(stack, people,
                                                        server):
    _cloud, app, _project = stack
    status, reply = call(app, '/compliance?all_projects=1', people['alice'])
    assert status == 403
    status, body = call(app, '/compliance?all_projects=1', people['admin'])
    assert status == 200
    assert server['id'] in {r['server_id'] for r in body['compliance']}
    status, reply = call(app, '/compliance?start=yesterday', people['admin'])
    assert status == 400 and 'ISO 8601' in reply['errors'][0]['detail']


# -- the openstackclient plugin against this API over HTTP ------------------

OPENSTACK = os.path.join(os.path.dirname(sys.executable), 'openstack')


def openstack(cloud, token, *argv):
    env = {k: v for k, v in os.environ.items() if not k.startswith('OS_')}
    proc = subprocess.run(
        [OPENSTACK, '--os-auth-type', 'admin_token', '--os-endpoint',
         cloud.api_url, '--os-token', token] + list(argv),
        capture_output=True, text=True, env=env, check=False)
    return proc.returncode, proc.stdout, proc.stderr


def test_openstack_server_security_show_set_unset(stack, server):
    cloud, _app, project = stack
    alice = 'alice:%s' % project
    code, out, err = openstack(cloud, alice, 'server', 'security', 'show',
                               server['id'], '-f', 'json')
    assert code == 0, err
    shown = json.loads(out)
    assert shown['Compliant'] is True and shown['Host'] is None
    assert shown['Effective'] == {'Other VMs': ['C', 'I']}
    code, out, err = openstack(cloud, alice, 'server', 'security', 'set',
                               server['id'], '--option', '1', '--option',
                               '2', '--package', 'basic', '-f', 'yaml')
    assert code == 0, err
    assert cloud.nova.get_server(server['id'])['metadata'] == {
        'sod:options': '1,2', 'sod:properties': 'C,I',
        'sod:package': 'basic'}
    code, out, err = openstack(cloud, alice, 'server', 'security', 'unset',
                               server['id'], '--options', '-f', 'json')
    assert code == 0, err
    assert cloud.nova.get_server(server['id'])['metadata'] == {
        'sod:package': 'basic'}
    code, out, err = openstack(cloud, alice, 'server', 'security', 'unset',
                               server['id'])
    assert code == 0, err
    assert cloud.nova.get_server(server['id'])['metadata'] == {}
    code, _out, err = openstack(cloud, 'bob:project-b', 'server', 'security',
                                'show', server['id'])
    assert code == 1 and 'HTTP 404' in err


def test_openstack_sod_compliance_report(stack, server):
    cloud, _app, project = stack
    code, out, err = openstack(cloud, 'alice:%s' % project, 'sod',
                               'compliance', 'report', '-f', 'json')
    assert code == 0, err
    rows = {r['Server']: r for r in json.loads(out)}
    assert server['id'] in rows
    assert 0.0 <= rows[server['id']]['Compliant Ratio'] <= 1.0
    code, out, err = openstack(cloud, 'admin:admin', 'sod', 'compliance',
                               'report', '--all-projects', '--server',
                               server['id'], '-f', 'json')
    assert code == 0, err
    [row] = json.loads(out)
    assert row['Server'] == server['id']


def test_the_evacuation_plan_says_how_each_vm_would_move(stack, people,
                                                         server):
    cloud, app, _project = stack
    host = cloud.nova.server_host(server['id'])
    other = ({'hw1', 'hw2'} - {host}).pop()
    plain = cloud.nova.create_server(name='evac-plain', host=host)
    # A customer who prefers a pause to a reboot: an ordinary guest moves
    # live all the same.
    pausing = cloud.nova.create_server(
        name='evac-live-only', host=host,
        metadata={'sod:options': '1', 'sod:remediation': 'live'})
    try:
        status, body = call(app, '/hosts/%s/evacuation-plan' % host,
                            people['admin'])
        assert status == 200, body
        plan = {vm['id']: vm for vm in body['vms']}
        assert plan[server['id']]['outcome'] == 'move'
        assert plan[server['id']]['move'] == 'live'
        assert plan[server['id']]['candidates'] == [other]
        assert plan[server['id']]['interruption'] == 'none (live migration)'
        assert plan[plain['id']]['outcome'] == 'stay'
        assert plan[pausing['id']]['move'] == 'live'
        # The same plan once the other host is gone too: every VM with a
        # request would get the no-host action, with the reason.
        cloud.fleet.backend(other).start_attack()
        try:
            cloud.wait_for_state(other, ('untrusted',))
            status, body = call(app, '/hosts/%s/evacuation-plan' % host,
                                people['admin'])
            plan = {vm['id']: vm for vm in body['vms']}
            entry = plan[server['id']]
            assert (entry['outcome'], entry['no_host_action']) == (
                'park', 'pause')
            assert entry['reason'].startswith('no compliant host')
            assert entry['candidates'] == []
        finally:
            cloud.fleet.backend(other).stop_attack()
            cloud.wait_for_state(other, ('trusted',))
        code, out, err = openstack(cloud, 'admin:admin', 'sod', 'host',
                                   'evacuation-plan', host, '-f', 'json')
        assert code == 0, err
        rows = {r['ID']: r for r in json.loads(out)}
        assert rows[server['id']]['Move'] == 'live'
        assert rows[server['id']]['Candidates'] == other
        # Operators only, and a host sod-nova does not know is a 404.
        status, body = call(app, '/hosts/%s/evacuation-plan' % host,
                            people['alice'])
        assert status == 403
        status, body = call(app, '/hosts/nowhere/evacuation-plan',
                            people['admin'])
        assert status == 404
    finally:
        for vm in (plain, pausing):
            cloud.nova.admin_api.delete_server(vm['id'])
