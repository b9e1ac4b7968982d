"""sod-nova-api's server resources against real Nova, the trust monitor and
the migration manager (the embedded cloud).

The API runs in-process with ``auth_strategy = noauth2``: the caller's
identity comes from the request headers and is forwarded to Nova's API,
which (in the embedded cloud) trusts the same headers, so Nova's own policy
applies to every read and write made for the caller. Keystone and
keystonemiddleware in front of both are covered by the Horizon env's test
(sod-horizon/sod_horizon/tests/browser/test_api_keystone.py).

Nova's API is on loopback too (tests/functional/wsgi.py), for the console
scripts that read flavors from it: ``openstack sod request check --flavor``
and ``sod-nova-status upgrade check``'s flavor check, against flavors
created through Nova's API.
"""

import json
import os
import subprocess
import sys

from oslo_upgradecheck import upgradecheck
import pytest
import webob
import yaml

from functional import processes
from functional import wsgi
from sod_nova.api import deploy
from sod_nova.catalog import loader
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
            nova_http = wsgi.serve_nova(cloud.nova)
            try:
                # Nova's API on loopback too, for the console scripts.
                cloud.nova_url = nova_http.endpoint
                with api_server.LoopbackAPI(conf,
                                            nova_service=service) as http:
                    cloud.api_url = http.url
                    yield cloud, app, project
            finally:
                nova_http.close()
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
    # Below [sod_relocation] moving_target_min (default 300 s).
    ({'options': [1, 2], 'moving_target': 1}, 'sod.security.invalid'),
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


@pytest.mark.parametrize('path', [
    'detail',                            # Nova's list, not a server
    '%s%%3Fall_tenants=1',               # a query smuggled into Nova's URL
    '%s%%23',                            # a fragment cutting the id short
    '%s%%2Fmetadata',                    # another resource of the server
])
def test_a_server_id_is_one_path_segment_at_nova(stack, people, server, path):
    _cloud, app, _project = stack
    status, _ = call(app, '/servers/%s/security' % (path % server['id'] if '%s' in path
                                                    else path), people['admin'])
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
        assert seen['ended_by']['to'] is None
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


def test_openstack_server_security_unset_keeps_what_nova_wrote(stack,
                                                               server):
    cloud, _app, project = stack
    alice = 'alice:%s' % project
    # Written through Nova (openstack server set --property), not the API.
    cloud.nova.set_metadata(server, {
        'sod:options': '2, 1', 'sod:properties': 'c, i',
        'sod:package': 'basic', 'sod:remediation': 'live'}, replace=True)
    code, _out, err = openstack(cloud, alice, 'server', 'security', 'unset',
                                server['id'], '--package', '-f', 'json')
    assert code == 0, err
    assert cloud.nova.get_server(server['id'])['metadata'] == {
        'sod:options': '1,2', 'sod:properties': 'C,I',
        'sod:remediation': 'live'}
    # A part sod-nova cannot read may be cleared, never kept.
    cloud.nova.set_metadata(server, {'sod:moving_target': 'hourly'})
    code, _out, err = openstack(cloud, alice, 'server', 'security', 'unset',
                                server['id'], '--options')
    assert code == 1
    assert ("cannot keep the server's sod:moving_target: 'hourly' is not a "
            "number of seconds") in err and 'Traceback' not in err
    code, _out, err = openstack(cloud, alice, 'server', 'security', 'unset',
                                server['id'], '--moving-target')
    assert code == 0, err
    assert cloud.nova.get_server(server['id'])['metadata'] == {
        'sod:options': '1,2', 'sod:properties': 'C,I',
        'sod:remediation': 'live'}


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



# -- flavors as Nova has them: the upgrade check and request check --------

SNP_GUEST = {'hw:mem_encryption': 'true',
             'hw:mem_encryption_model': 'amd-sev-snp'}


class Flavors:
    """Flavors created through Nova's API (its extra-spec validators, the
    ``sod:`` ones included, apply), deleted at the end of the test."""

    def __init__(self, nova):
        self.nova = nova
        self.ids = []

    def public(self, name, extra_specs):
        self.ids.append(self.nova.create_flavor(extra_specs, name=name))

    def private(self, name, extra_specs):
        flavor = self.nova.admin_api.post_flavor({'flavor': {
            'name': name, 'ram': 512, 'vcpus': 1, 'disk': 1,
            'os-flavor-access:is_public': False}})
        self.ids.append(flavor['id'])
        self.nova.admin_api.post_extra_spec(
            flavor['id'], {'extra_specs': dict(extra_specs)})

    def delete(self):
        for flavor_id in self.ids:
            self.nova.admin_api.delete_flavor(flavor_id)


@pytest.fixture
def flavors(stack):
    made = Flavors(stack[0].nova)
    yield made
    made.delete()


FLAVOR_CHECK = 'Flavors launch the guests their sod: requests need'
WARNING = upgradecheck.Code.WARNING


def upgrade_check(*config_files):
    """``sod-nova-status upgrade check --json`` as an operator runs it: the
    flavor check's ``(result, details)``."""
    argv = [processes.script('sod-nova-status')]
    for path in config_files:
        argv += ['--config-file', str(path)]
    proc = subprocess.run(argv + ['upgrade', 'check', '--json'],
                          capture_output=True, text=True, check=False)
    assert 'Traceback' not in proc.stdout + proc.stderr, proc.stderr
    checks = {c['check']: (c['result'], c['details'])
              for c in json.loads(proc.stdout)['checks']}
    # The exit status is the worst result (the other checks read files this
    # test does not write: nova-scheduler's configuration, the transport).
    assert proc.returncode == max(r for r, _ in checks.values())
    return checks[FLAVOR_CHECK]


def snp_sentence(flavor):
    return ('AMD-SEV-SNP protects C, I against Hypervisor only for a guest '
            'launched with hw:mem_encryption=true, hw:mem_encryption_model='
            'amd-sev-snp; flavor %s does not ask for it' % flavor)


def write_present_day(path):
    """An operator's catalogue of today's hardware only: the packaged rows
    that carry a guest requirement, copied as they are."""
    with open(loader.default_path(loader.ARCHITECTURES_FILE)) as f:
        data = yaml.safe_load(f)
    data['architectures'] = [a for a in data['architectures'] if a.get('guest')]
    path.write_text(yaml.safe_dump(data))
    return path


def test_upgrade_check_names_flavors_that_do_not_launch_the_guest_needed(
        stack, flavors, tmp_path):
    # Every flavor, public and private, with its extra specs, read from
    # Nova's API with [nova]'s credentials; sod-nova's own database says
    # which server types this deployment has.
    cloud = stack[0]
    config = tmp_path / 'sod_nova.conf'
    config.write_text(
        '[sod_database]\nconnection = sqlite:///%s/sod.db\n'
        '[nova]\nauth_type = none\nendpoint_override = %s\n'
        % (tmp_path, cloud.nova_url))
    present_day = tmp_path / 'present-day.conf'
    present_day.write_text('[sod_catalog]\narchitectures_file = %s\n'
                           % write_present_day(tmp_path / 'present-day.yaml'))
    processes.manage(config, 'db', 'sync')
    flavors.public('sod-hyperwall', {'sod:options': '1,2'})
    flavors.public('sod-snp', dict(SNP_GUEST, **{'sod:options': '2'}))
    flavors.public('sod-pinned', {'sod:options': '2',
                                  'hw:cpu_policy': 'dedicated'})
    # Plain amd-sev is not SNP; a private flavor is read as well.
    flavors.private('sod-sev', {'sod:options': '2',
                                'hw:mem_encryption': 'true'})
    # No host declared: judged among the whole catalogue, where HyperWall
    # protects any guest against the hypervisor.
    assert upgrade_check(config) == (upgradecheck.Code.SUCCESS, None)

    # Nova validates one key at a time: sod:properties alone passes it.
    flavors.public('sod-odd', {'sod:properties': 'C'})

    def assert_named(details, among):
        assert details.startswith(
            '4 flavors will not have their VMs protected as asked (no host '
            'takes them unless their image asks for the guest): flavor '
            'sod-hyperwall asks for C, I against Other VMs; C, I against '
            'Hypervisor, which %s only a guest launched for it gets: '
            % among), details
        assert ('flavor sod-odd has a malformed sod: request (flavor extra '
                'spec sod:properties: given without sod:options), so its VMs '
                'are held to the strictest request') in details
        assert snp_sentence('sod-pinned') in details
        assert snp_sentence('sod-sev') in details
        assert 'sod-snp' not in details
        assert details.endswith('Give each flavor the launch extra specs '
                                'named, or change its sod: request')

    # A catalogue of today's hardware only.
    result, details = upgrade_check(config, present_day)
    assert result == WARNING
    assert_named(details, 'in the catalogue')
    # The packaged catalogue, in a cloud of SNP and TDX hosts.
    processes.manage(config, 'host', 'declare', 'snp1', 'AMD-SEV-SNP')
    processes.manage(config, 'host', 'declare', 'tdx1', 'Intel-TDX')
    result, details = upgrade_check(config)
    assert result == WARNING
    assert_named(details, "among this cloud's server types (AMD-SEV-SNP, "
                          'Intel-TDX)')
    assert ('Intel-TDX protects C, I against Other VMs; C, I against '
            'Hypervisor only for a guest launched with hw:mem_encryption='
            'true, hw:mem_encryption_model=intel-tdx; flavor sod-hyperwall '
            'does not ask for it') in details


def test_openstack_sod_request_check_reads_the_flavor_from_nova(stack,
                                                                  flavors):
    # The flavor as openstack server create reads it: from Nova's API (here
    # on loopback, where the token's project is the fixture's admin; the
    # flavor is public), its extra specs with it.
    cloud, _app, project = stack
    flavors.public('m1.snp', SNP_GUEST)
    env = {k: v for k, v in os.environ.items() if not k.startswith('OS_')}

    def request_check(flavor):
        proc = subprocess.run(
            [OPENSTACK, '--os-auth-type', 'admin_token', '--os-endpoint',
             cloud.nova_url, '--os-token', 'alice:%s' % project,
             '--os-security-on-demand-url', cloud.api_url,
             'sod', 'request', 'check', '--option', '2', '--flavor', flavor,
             '-f', 'json'], capture_output=True, text=True, env=env,
            check=False)
        return proc.returncode, proc.stdout, proc.stderr

    code, out, err = request_check('m1.snp')
    assert code == 0, err
    result = json.loads(out)
    # The guest of the flavor's extra specs, and the flavor by its name.
    assert result['Guest'] == ('a guest launched with hw:mem_encryption=true, '
                               'hw:mem_encryption_model=amd-sev-snp')
    assert {'AMD-SEV-SNP', 'HyperWall'} <= set(result['Satisfied By'])
    conditions = {c['name']: c['sentence'] for c in result['Guest Conditions']}
    assert conditions['Intel-TDX'].endswith(
        'flavor m1.snp does not ask for it')
    code, _out, err = request_check('m1.nonesuch')
    assert code == 1
    assert 'm1.nonesuch' in err and 'Traceback' not in err


# -- what a project user reads: built, never scrubbed -----------------------
# Last in this module: it adds a compute host sod-nova has no row for and
# a TPM host it leaves attacked until the end.

ROWLESS = 'compute-17.dc1.internal'
ATTACKED = 'compute-18.dc1.internal'
OTHER_APPS = {'sod:options': '6', 'sod:properties': 'C,I'}


def test_a_project_never_reads_a_host_name_or_the_monitors_detail(stack,
                                                                   people):
    cloud, app, _project = stack
    # A compute host without a trust row, and a TPM host whose evidence
    # failed verification: the only kind of host that protects Other Apps.
    cloud.nova.start_compute(ROWLESS)
    cloud.add_host(ATTACKED, 'TPM')
    cloud.fleet.backend(ATTACKED).start_attack()
    servers = []
    try:
        cloud.wait_for_state(ATTACKED, ('untrusted',))
        detail = cloud.host_row(ATTACKED).reason
        # VM-A asks nothing and so may run where it is put; then its
        # customer asks for Other Apps, which no trusted server protects.
        vm_a = cloud.nova.create_server(name='on-rowless', host=ROWLESS)
        servers.append(vm_a['id'])
        assert vm_a['status'] == 'ACTIVE'
        path_a = '/servers/%s/security' % vm_a['id']
        status, body = call(app, path_a, people['alice'], 'PUT',
                            {'options': [6]})
        assert status == 200, body
        assert ROWLESS not in json.dumps(body)
        assert cloud.settle()
        # VM-B asks for Other Apps at boot: no host passes the filter.
        vm_b = cloud.nova.create_server(name='no-host', metadata=OTHER_APPS)
        servers.append(vm_b['id'])
        assert vm_b['status'] == 'ERROR'
        path_b = '/servers/%s/security' % vm_b['id']

        for path in (path_a, path_b):
            status, body = call(app, path, people['rita'])
            assert status == 200, body
            text = json.dumps(body)
            for secret in (ROWLESS, ATTACKED, detail):
                assert secret not in text, (secret, text)
        _status, body = call(app, path_a, people['rita'])
        seen = body['security']
        assert seen['compliant'] is False
        assert seen['trigger'] == 'unreachable'
        assert seen['reason'].startswith('its server is unreachable')
        assert seen['paused']['paused'] is True, seen
        assert seen['relocation']['trigger'] == 'unreachable'
        _status, body = call(app, path_b, people['rita'])
        rejection = body['security']['last_rejection']
        assert rejection['code'] == 'no-compliant-host'
        assert rejection['at']

        # The operator reads the detail.
        _status, body = call(app, path_a, people['admin'])
        assert ROWLESS in body['security']['reason']
        assert body['security']['host'] == ROWLESS
        _status, body = call(app, path_b, people['admin'])
        reason = body['security']['last_rejection']['reason']
        assert ATTACKED in reason and detail in reason, reason
    finally:
        for server_id in servers:
            cloud.nova.admin_api.delete_server(server_id)
        cloud.fleet.backend(ATTACKED).stop_attack()
        cloud.wait_for_state(ATTACKED, ('trusted',))
