"""``openstack sod ...``: openstackclient's console script, as a user runs
it, against the real sod-nova-api on a loopback port (noauth2, SQLite).

A subprocess per command: osc-lib caches each plugin's client on the
ClientManager class, so a second in-process run would reuse the first
run's endpoint.

The server commands (``openstack server security ...``, ``openstack sod
compliance report``) and ``openstack sod request check --flavor`` need Nova:
tests/functional/test_api_servers.py.
"""

import json
import os
import re
import subprocess
import sys

from keystoneauth1 import adapter
from keystoneauth1 import session as ks_session
from keystoneauth1 import token_endpoint
from osc_lib import exceptions
import pytest
import yaml

from sod_nova.api import microversion
from sod_nova.cloud import api_server
from sod_nova.conf import CONF
from sod_nova.db import api as db_api
from sod_nova.db import audit
from sod_nova.db import migration as db_migration
from sod_nova.db import relocation as relocation_db
from sod_nova.osc import client
from sod_nova.osc.v1 import server as server_cmd

OPENSTACK = os.path.join(os.path.dirname(sys.executable), 'openstack')


@pytest.fixture
def api(tmp_path):
    CONF([], project='sod_nova', default_config_files=[],
         default_config_dirs=[])
    CONF.set_override('connection', 'sqlite:///%s/sod.sqlite' % tmp_path,
                      'sod_database')
    CONF.set_override('auth_strategy', 'noauth2', 'sod_api')
    # Fresh for an hour: each command is a new process, slow on a busy box.
    CONF.set_override('evidence_max_age', 3600.0, 'sod_trust')
    db_migration.sync(CONF)
    server = api_server.LoopbackAPI(CONF)
    server.setUp()
    yield server
    server.cleanUp()
    db_api.dispose()
    CONF.clear_override('connection', 'sod_database')
    CONF.clear_override('auth_strategy', 'sod_api')
    CONF.clear_override('evidence_max_age', 'sod_trust')
    CONF.reset()


def openstack(api, *argv, token='admin:admin', options=(), endpoint=None):
    """``openstack [OPTIONS] ARGV``: ``(exit code, stdout, stderr)``; the
    auth plugin's endpoint is the API's unless ``endpoint`` is given."""
    env = {k: v for k, v in os.environ.items() if not k.startswith('OS_')}
    proc = subprocess.run(
        [OPENSTACK, '--os-auth-type', 'admin_token', '--os-endpoint',
         endpoint or api.url, '--os-token', token, *options] + list(argv),
        capture_output=True, text=True, env=env, check=False)
    return proc.returncode, proc.stdout, proc.stderr


def sent_versions(debug_log):
    """The ``OpenStack-API-Version`` of every request in ``--debug`` output."""
    return set(re.findall(r'OpenStack-API-Version: security-on-demand ([0-9.]+)',
                          debug_log))


def in_process_client(api, version=None):
    """The plugin's client over a keystoneauth session, as make_client
    builds it (``admin_token``: the endpoint is the API's)."""
    session = ks_session.Session(auth=token_endpoint.Token(api.url, 'admin:admin'))
    return client.Client(adapter.Adapter(
        session=session, service_type=client.SERVICE_TYPE), version)


def test_the_client_negotiates_the_newest_version_the_api_serves(api):
    sod = in_process_client(api)
    assert sod.api_version == microversion.max_version() == client.MAX_VERSION
    assert sod.adapter.default_microversion == client.MAX_VERSION
    assert 'HyperWall' in {r['name'] for r in sod.catalog()['architectures']}
    code, out, err = openstack(api, 'sod', 'catalog', 'list', options=['--debug'])
    assert code == 0, err
    assert sent_versions(err) == {microversion.max_version()}


def test_an_older_api_is_spoken_to_at_its_newest(api, monkeypatch):
    monkeypatch.setattr(microversion, 'VERSIONS', ['1.0', '1.1'])
    assert in_process_client(api).api_version == '1.1'
    with pytest.raises(exceptions.CommandError) as caught:
        in_process_client(api, '1.2').catalog()
    assert str(caught.value) == (
        'sod-nova API version 1.2 is not served by %s/ (it serves 1.0 to '
        '1.1; this client reads 1.0 to 1.3)' % api.url)


def test_a_named_version_is_the_one_sent(api):
    code, out, err = openstack(api, 'sod', 'request', 'check', '--option', '2',
                               '-f', 'json', token='alice:project-a',
                               options=['--debug', '--os-sod-api-version', '1.0'])
    assert code == 0, err
    assert sent_versions(err) == {'1.0'}
    result = json.loads(out)    # 1.0 has no guest in its answer
    assert 'HyperWall' in result['Satisfied By'] and result['Guest'] is None


def test_the_endpoint_may_be_named_instead_of_found(api):
    # The auth plugin's endpoint is nothing that listens: the override wins.
    listing = ('sod', 'catalog', 'list', '-f', 'value', '-c', 'Name')
    code, out, err = openstack(api, *listing, endpoint='http://127.0.0.1:9',
                               options=['--os-security-on-demand-url', api.url])
    assert code == 0, err
    assert 'HyperWall' in out.split()
    code, out, err = openstack(api, *listing, endpoint='http://127.0.0.1:9')
    assert code == 1 and err.count('\n') == 1
    assert err.startswith('sod-nova API: ') and 'http://127.0.0.1:9' in err


@pytest.mark.parametrize('version, message', [
    ('1.7', 'sod-nova API version 1.7 is not one this client reads (1.0 to 1.3)'),
    ('2.0', 'sod-nova API version 2.0 is not one this client reads (1.0 to 1.3)'),
    ('one', "--os-sod-api-version 'one': not a version (give MAJOR.MINOR, e.g. 1.3)"),
])
def test_a_version_the_client_does_not_read_is_one_line(api, version, message):
    code, out, err = openstack(api, 'sod', 'catalog', 'list',
                               options=['--os-sod-api-version', version])
    assert (code, out, err) == (1, '', message + '\n')


def test_the_commands_are_registered_with_openstackclient(api):
    code, out, _ = openstack(api, 'command', 'list', '--group',
                             'security_on_demand', '-f', 'json')
    assert code == 0
    commands = {c for group in json.loads(out) for c in group['Commands']}
    assert commands >= {'sod host list', 'sod host show', 'sod catalog list',
                        'sod catalog show', 'sod request check',
                        'server security show', 'server security set',
                        'server security unset', 'sod audit list',
                        'sod compliance report'}


def test_host_list_and_show_as_json_yaml_and_table(api):
    ctx = db_api.Context()
    db_api.host_declare(ctx, 'hw1', 'HyperWall')
    now = db_api.now()
    db_api.host_set_trust(ctx, 'hw1', 'trusted', 'verified', 3, last_evidence_at=now,
                          valid_until=db_api.evidence_valid_until(now, 3600))
    code, out, err = openstack(api, 'sod', 'host', 'list', '-f', 'json')
    assert code == 0, err
    [row] = json.loads(out)
    assert row['Name'] == 'hw1' and row['State'] == 'trusted'
    assert row['Capabilities'] == {'Other VMs': ['C', 'I']}
    code, out, _ = openstack(api, 'sod', 'host', 'show', 'hw1', '-f', 'yaml')
    assert code == 0
    assert yaml.safe_load(out)['Usable'] is True
    code, out, _ = openstack(api, 'sod', 'host', 'list')
    assert code == 0 and 'Other VMs:CI' in out


def test_a_customer_may_not_list_hosts(api):
    code, _out, err = openstack(api, 'sod', 'host', 'list',
                                token='alice:project-a')
    assert code == 1
    assert 'sod:hosts:list' in err and 'HTTP 403' in err


def test_an_unknown_host_is_a_one_line_error(api):
    code, _out, err = openstack(api, 'sod', 'host', 'show', 'nope')
    assert code == 1
    assert 'No host named nope' in err and 'Traceback' not in err


def test_catalog_list_and_show(api):
    code, out, _ = openstack(api, 'sod', 'catalog', 'list', '-f', 'json',
                             token='alice:project-a')
    assert code == 0
    names = {r['Name'] for r in json.loads(out)}
    assert {'HyperWall', 'DataSafe', 'TPM'} <= names
    code, out, _ = openstack(api, 'sod', 'catalog', 'show', 'hyperwall',
                             '-f', 'json', token='alice:project-a')
    assert code == 0
    shown = json.loads(out)
    assert shown['Row']['Hypervisor'] == {'C': 'yes', 'I': 'yes'}
    assert (shown['Guest'], shown['Guest Launch'], shown['Guest Source']) == (
        'any guest (it needs no guest launch feature)', None, None)


def sod_nova(*args):
    """``sod-nova ARGS``, the operator's CLI, in a fresh process."""
    proc = subprocess.run([sys.executable, '-m', 'sod_nova.cmd.manage',
                           *args], capture_output=True, text=True,
                          check=False)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


@pytest.mark.parametrize('name, feature, only_for', [
    ('amd-sev-snp', 'amd-sev-snp',
     ' only for a guest launched with hw:mem_encryption=true, '
     'hw:mem_encryption_model=amd-sev-snp'),
    ('intel-sgx', 'sgx-enclave',
     ' only for an application built for SGX in a guest given enclave '
     'memory (EPC), which Nova 34 cannot launch'),
])
def test_catalog_says_which_guest_a_row_protects_as_sod_nova_does(
        api, name, feature, only_for):
    code, out, err = openstack(api, 'sod', 'catalog', 'show', name, '-f',
                               'json', token='alice:project-a')
    assert code == 0, err
    shown = json.loads(out)
    cli = sod_nova('catalog', 'show', name, '-f', 'json')
    assert (shown['Guest'], shown['Guest Launch'], shown['Guest Source']) == (
        cli['guest'], cli['guest_launch'], cli['guest_source'])
    assert shown['Guest'].startswith('%s protects ' % cli['name'])
    assert shown['Guest'].endswith(only_for)
    code, out, err = openstack(api, 'sod', 'catalog', 'list', '-f', 'json',
                               token='alice:project-a')
    assert code == 0, err
    needs = {r['Name']: r['Guest Needs'] for r in json.loads(out)}
    listed = {r['Name']: r['Guest Needs']
              for r in sod_nova('catalog', 'list', '-f', 'json')}
    assert needs == listed
    assert needs[cli['name']] == feature
    assert needs['HyperWall'] == '-'


def test_request_check(api):
    code, out, _ = openstack(api, 'sod', 'request', 'check', '--option', '2',
                             '--property', 'C', '-f', 'json',
                             token='alice:project-a')
    assert code == 0
    result = json.loads(out)
    assert result['Request'] == {'Hypervisor': ['C']}
    assert 'HyperWall' in result['Satisfied By']
    code, _out, err = openstack(api, 'sod', 'request', 'check', '--option',
                                '4')
    assert code == 1 and 'Cloud Manager' in err


def test_request_check_for_a_guest(api):
    code, out, err = openstack(
        api, 'sod', 'request', 'check', '--option', '1', '--option', '2',
        '--extra-spec', 'hw:mem_encryption=true', '--extra-spec',
        'hw:mem_encryption_model=amd-sev-snp', '-f', 'json',
        token='alice:project-a')
    assert code == 0, err
    result = json.loads(out)
    assert result['Guest'] == ('a guest launched with hw:mem_encryption=true, '
                               'hw:mem_encryption_model=amd-sev-snp')
    assert 'AMD-SEV-SNP' in result['Satisfied By']
    assert 'Intel-TDX' not in result['Satisfied By']
    tdx = {c['name']: c for c in result['Guest Conditions']}['Intel-TDX']
    assert tdx['sentence'].endswith('this flavor does not ask for it')
    # Without a guest, the rows that need one are named in a table too.
    code, out, _ = openstack(api, 'sod', 'request', 'check', '--option', '2',
                             token='alice:project-a')
    assert code == 0
    assert ('AMD-SEV-SNP protects C, I against Hypervisor only for a guest '
            'launched with') in out


@pytest.mark.parametrize('args, message', [
    (['--extra-spec', 'hw:mem_encryption'],
     "--extra-spec 'hw:mem_encryption': give <key=value>"),
    (['--extra-spec', 'hw:mem_encryption=maybe'],
     "flavor extra spec hw:mem_encryption: 'maybe' is not a boolean (true or "
     "false) (HTTP 400, sod.security.invalid)"),
])
def test_request_check_refuses_a_bad_guest(api, args, message):
    code, _out, err = openstack(api, 'sod', 'request', 'check', '--option',
                                '1', *args)
    assert code == 1
    assert message in err and 'Traceback' not in err


def test_audit_list_pages_through_the_whole_chain(api, tmp_path):
    audit.write_key(tmp_path / 'audit.key')
    CONF.set_override('key_file', str(tmp_path / 'audit.key'), 'sod_audit')
    store, ctx = relocation_db.RelocationStore(CONF), db_api.Context()
    for i in range(5):
        store.audit_append(ctx, {'event': 'decided', 'vm': 'vm%d' % i, 'at': i,
                                 'trigger': 'trust-loss', 'from': 'hw1'})
    CONF.set_override('max_limit', 2, 'sod_api')
    try:
        code, out, err = openstack(api, 'sod', 'audit', 'list', '-f', 'json')
    finally:
        CONF.clear_override('max_limit', 'sod_api')
    assert code == 0, err
    assert [r['Seq'] for r in json.loads(out)] == [1, 2, 3, 4, 5]
    code, out, _ = openstack(api, 'sod', 'audit', 'list', '--marker', '3',
                             '--limit', '1', '-f', 'json')
    assert [r['Seq'] for r in json.loads(out)] == [4]


# -- openstack server security unset: what it keeps ---------------------------
# The command itself runs against real Nova in
# tests/functional/test_api_servers.py; here, the request it sends back.

def _security(keys):
    """The part of sod-nova-api's security document ``unset`` reads."""
    return {'requested': {'metadata': {'keys': keys}}}


#: Written through Nova (openstack server set --property), not the API.
THROUGH_NOVA = {'sod:options': '2, 1', 'sod:properties': 'c, i',
                'sod:package': ' basic', 'sod:moving_target': ' 3600',
                'sod:remediation': 'Live'}


@pytest.mark.parametrize('dropped, kept', [
    (['package'], {'options': [1, 2], 'properties': ['C', 'I'],
                   'moving_target': 3600, 'remediation': ['live']}),
    (['options'], {'package': 'basic', 'moving_target': 3600,
                   'remediation': ['live']}),
    (['moving_target', 'package'], {'options': [1, 2],
                                    'properties': ['C', 'I'],
                                    'remediation': ['live']}),
])
def test_unset_keeps_the_other_parts_as_sod_nova_reads_them(dropped, kept):
    assert server_cmd._current(_security(THROUGH_NOVA), dropped) == kept


def test_unset_clears_an_unreadable_part_but_never_keeps_it():
    keys = dict(THROUGH_NOVA, **{'sod:moving_target': 'hourly'})
    assert 'moving_target' not in server_cmd._current(
        _security(keys), ['moving_target'])
    with pytest.raises(exceptions.CommandError) as caught:
        server_cmd._current(_security(keys), ['package'])
    assert str(caught.value) == (
        "cannot keep the server's sod:moving_target: 'hourly' is not a "
        "number of seconds; clear the whole request (unset with no option) "
        "or set it again")
