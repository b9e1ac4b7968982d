"""One verdict and one reason for the same VM on the same host, whoever asks.

The scheduler filter (with the RequestSpec and instance Nova keeps), the
migration manager (the server as openstacksdk shows it), sod-nova-api
(``GET /servers/{id}/security``) and ``POST /requests/check`` each read the
VM's request and launch features from their own sources; over a table of
cases with real Nova (an SEV-SNP host whose fake libvirt reports SNP, so
Nova itself launches the confidential guests), including malformed sources,
they must agree.
"""

import json
import logging

from nova import context as nova_context
from nova import objects
from nova.scheduler import host_manager
import pytest
import webob

from sod_nova.api import deploy
from sod_nova.catalog import Catalog
from sod_nova.cloud import noauth
from sod_nova.cloud import nova as nova_mod
import sod_nova.conf
from sod_nova.db import api as db_api
from sod_nova.db import audit
from sod_nova.db import migration as db_migration
from sod_nova.db import relocation as relocation_db
from sod_nova.relocation import audit_events
from sod_nova.relocation import manager as manager_mod
from sod_nova.scheduler import filters

CTX = db_api.Context()

CONF = sod_nova.conf.CONF
CATALOG = Catalog.load()
SOD_FILTER = 'sod_nova.scheduler.filters.SecurityOnDemandFilter'
SNP = {'hw:mem_encryption': 'true', 'hw:mem_encryption_model': 'amd-sev-snp'}
ADMIN = {'X-Auth-Token': 'admin:admin', 'X-Roles': 'admin,member,reader'}
SNP_NOTE = ('AMD-SEV-SNP protects C, I against Other VMs; C, I against '
            'Hypervisor only for a guest launched with hw:mem_encryption=true, '
            'hw:mem_encryption_model=amd-sev-snp')

#: (case, host, flavor extra specs, metadata at boot, metadata set after
#: boot (a customer's edit, which Nova does not validate), compliant, words
#: every reason must hold).
CASES = [
    ('hyperwall, ordinary guest', 'hw1', {}, {'sod:options': '1,2'}, None,
     True, None),
    ('snp host, ordinary guest', 'snp1', {}, None, {'sod:options': '1,2'},
     False, SNP_NOTE + '; this VM is an ordinary guest'),
    ('snp host, snp guest', 'snp1', SNP, {'sod:options': '1,2'}, None,
     True, None),
    ('snp host, snp floor in the flavor', 'snp1',
     dict(SNP, **{'sod:options': '2'}), None, None, True, None),
    ('tpm host, application request', 'tpm1', {}, {'sod:options': '6'},
     None, True, None),
    ('tpm host, a cell it lacks', 'tpm1', {}, None, {'sod:options': '1'},
     False, 'tpm1 (TPM) lacks C, I against Other VMs'),
    ('malformed options', 'hw1', {}, None, {'sod:options': 'banana'}, False,
     'malformed security request (instance metadata sod:options: banana is '
     'not an option (1-7)), held to the strictest request'),
    ('malformed remediation', 'snp1', SNP, {'sod:options': '1'},
     {'sod:remediation': 'teleport'}, False,
     'instance metadata sod:remediation: teleport is not a move'),
]


@pytest.fixture(scope='module')
def cloud(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('agreement')
    overrides = {
        ('sod_database', 'connection'): 'sqlite:///%s/sod.db' % tmp,
        ('sod_filter', 'host_cache_seconds'): 0.0,
        ('sod_trust', 'evidence_max_age'): 3600.0,
        # The manager only decides here: no move, no no-host action.
        ('sod_relocation', 'remediation'): [],
        ('sod_relocation', 'no_host_action'): 'none',
        ('sod_api', 'auth_strategy'): 'noauth2',
        ('sod_audit', 'key_file'): str(tmp / 'audit.key'),
    }
    audit.write_key(tmp / 'audit.key')
    with nova_mod.EmbeddedNova(extra_filters=[SOD_FILTER]) as nova:
        for (group, option), value in overrides.items():
            CONF.set_override(option, value, group)
        CONF.set_override('endpoint_override', nova.api_fixture.base_url,
                          'nova')
        try:
            db_migration.sync(CONF)
            hosts = {'hw1': ('HyperWall', nova_mod.ORDINARY),
                     'snp1': ('AMD-SEV-SNP',
                              nova_mod.Hardware(amd_sev_snp=True)),
                     'tpm1': ('TPM', nova_mod.ORDINARY)}
            now = db_api.now()
            for host, (arch, hardware) in hosts.items():
                nova.start_compute(host, hardware=hardware)
                db_api.host_declare(CTX, host, arch)
                db_api.host_set_trust(
                    CTX, host, 'trusted', 'verified',
                    CATALOG.capability_mask(arch), last_evidence_at=now,
                    valid_until=db_api.evidence_valid_until(now, 3600.0))
            vms = {}
            for case, host, specs, boot_md, later_md, _ok, _words in CASES:
                flavor = nova.create_flavor(extra_specs=specs) if specs else None
                server = nova.create_server(
                    name=case.replace(' ', '-').replace(',', ''),
                    flavor=flavor, host=host, metadata=boot_md,
                    image_properties=nova_mod.guest_image_properties(specs))
                assert server['status'] == 'ACTIVE', (case, server)
                assert nova.server_host(server) == host, case
                if later_md:
                    nova.set_metadata(server, later_md)
                vms[case] = server['id']
            yield nova, vms
        finally:
            CONF.clear_override('endpoint_override', 'nova')
            for (group, option), _ in overrides.items():
                CONF.clear_override(option, group)
            db_api.dispose()


def filter_verdict(vm, host, caplog):
    spec = objects.RequestSpec.get_by_instance_uuid(
        nova_context.get_admin_context(), vm)
    flt = filters.SecurityOnDemandFilter()
    caplog.clear()
    with caplog.at_level(logging.DEBUG, logger='sod_nova.scheduler.filters'):
        passed = flt.filter_all(
            [host_manager.HostState(host, host, 'cell1')], spec)
    if passed:
        return True, None
    [why] = [r.args['why'] for r in caplog.records
             if r.levelno == logging.DEBUG and 'fails instance' in r.msg]
    return False, why


def manager_verdicts(nova, vms):
    manager = manager_mod.MigrationManager(
        noauth.connect(nova.api_fixture.base_url, 'sod-tests'), CATALOG, CONF)
    manager.process_pending()
    decided = {}
    for entry in relocation_db.RelocationStore(CONF).audit_entries(CTX):
        if entry.data['event'] == audit_events.DECIDED:
            decided[entry.data['vm']] = entry.data['reason']
    return {case: (vm not in decided, decided.get(vm))
            for case, vm in vms.items()}


def api_call(app, method, path, body=None, version=None):
    headers = dict(ADMIN)
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers['Content-Type'] = 'application/json'
    if version:
        headers['OpenStack-API-Version'] = 'security-on-demand %s' % version
    resp = webob.Request.blank(path, method=method, headers=headers,
                               body=data).get_response(app)
    return resp.status_int, resp.json


def check_body(specs, metadata):
    """A request check of the VM's own request for its own guest."""
    body = {'guest': {'extra_specs': dict(specs)}}
    keys = dict(metadata)
    if 'sod:options' in keys:
        body['options'] = [int(o) for o in keys['sod:options'].split(',')]
    return body


def test_filter_manager_api_and_request_check_agree(cloud, caplog):
    nova, vms = cloud
    manager = manager_verdicts(nova, vms)
    app = deploy.deploy(CONF, nova_service=noauth.connect(
        nova.api_fixture.base_url, 'sod-service'))
    checked = 0
    for case, host, specs, boot_md, later_md, compliant, words in CASES:
        vm = vms[case]
        by_filter = filter_verdict(vm, host, caplog)
        status, body = api_call(app, 'GET', '/servers/%s/security' % vm)
        assert status == 200, (case, body)
        document = body['security']
        by_api = (document['compliant'], document['reason'])
        verdicts = {'filter': by_filter, 'manager': manager[case],
                    'api': by_api}
        assert {v[0] for v in verdicts.values()} == {compliant}, (
            case, verdicts)
        if compliant:
            assert {v[1] for v in verdicts.values()} == {None}, (case, verdicts)
        else:
            # The filter names no host in its own line; the rest is the same
            # sentence of the one rule.
            assert by_api[1] == manager[case][1], (case, verdicts)
            assert by_filter[1] == by_api[1], (case, verdicts)
            assert words in by_api[1], (case, by_api[1])
        metadata = dict(boot_md or {}, **(later_md or {}))
        malformed = 'malformed' in case
        if malformed:
            continue     # request check refuses such input itself (below)
        status, answer = api_call(app, 'POST', '/requests/check',
                                  check_body(specs, metadata), '1.2')
        assert status == 200, (case, answer)
        arch = CATALOG.get(db_api.host_get(CTX, host).architecture).name
        assert (arch in answer['satisfied_by']) == compliant, (case, answer)
        if not compliant and 'AMD-SEV-SNP' in words:
            [condition] = [c for c in answer['guest_conditions']
                           if c['name'] == 'AMD-SEV-SNP']
            assert SNP_NOTE in condition['sentence'], condition
        checked += 1
    assert checked == len(CASES) - 2
    # Request check refuses a malformed request outright, naming it.
    status, answer = api_call(app, 'POST', '/requests/check',
                              {'options': [1], 'guest': {'extra_specs': {
                                  'sod:remediation': 'teleport'}}}, '1.2')
    assert status == 400, answer
    assert 'sod:remediation: teleport is not a move' in json.dumps(answer)
