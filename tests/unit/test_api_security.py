"""A server's security document: the operator's detail, and the project
user's view built from fields that never hold a host name.

The documents are assessed over a real SQLite database (host rows, the
filter's rejections, relocation tasks); the server is the
:class:`~sod_nova.relocation.server.ServerView` the API makes of Nova's
answer. The same documents through real Nova and the whole API are in
tests/functional/test_api_servers.py.
"""

import datetime
import json

import pytest

from sod_nova.api.objects import security
from sod_nova.conf import CONF
from sod_nova.conf import catalog as catalog_conf
from sod_nova.conf import relocation as relocation_conf
from sod_nova.db import api as db_api
from sod_nova.db import rejections as db_rejections
from sod_nova.db import relocation as relocation_db
from sod_nova.policy import parse
from sod_nova.relocation import server as server_mod
from sod_nova.relocation import triggers

CTX = db_api.Context()

#: A host without a trust row (never declared to sod-nova).
ROWLESS = 'compute-17.dc1.internal'
#: A host with a row, whose untrusted reason is the monitor's detail.
ATTACKED = 'compute-18.dc1.internal'
#: A trusted HyperWall host.
TRUSTED = 'compute-19.dc1.internal'
MONITOR_DETAIL = ('PCR 10 does not match the TPM reference '
                  '(events: rootkit-0.ko, rootkit-1.ko)')
#: What the filter keeps when no host passes (scheduler/filters.py words).
FILTER_REASON = (
    'no architecture among HyperWall satisfies C, I against Other Apps; '
    '1 of 2 hosts trusted with fresh evidence (HyperWall); would satisfy it '
    'if trusted: %s (untrusted: %s)' % (ATTACKED, MONITOR_DETAIL))
#: Words a project user must never receive.
SECRETS = (ROWLESS, ATTACKED, TRUSTED, 'compute-', 'PCR', 'rootkit')


@pytest.fixture
def catalog():
    return catalog_conf.load_catalog(CONF)


@pytest.fixture
def rows(db, catalog):
    now = db_api.now()
    db_api.host_set_trust(CTX, TRUSTED, 'trusted', 'evidence verified',
        catalog.capability_mask('HyperWall'), last_evidence_at=now,
        architecture='HyperWall',
        valid_until=now + datetime.timedelta(hours=1))
    db_api.host_set_trust(CTX, ATTACKED, 'untrusted', MONITOR_DETAIL, 0,
                          architecture='TPM')
    return {row.host: row for row in db_api.host_get_all(CTX)}


def server(host, options, vm='3f0c1b7e-0000-4000-8000-000000000001'):
    return server_mod.ServerView(
        id=vm, name='vm-a', host=host,
        metadata={parse.PREFIX + parse.OPTIONS: options,
                  parse.PREFIX + parse.PROPERTIES: 'C,I'})


def both(db, catalog, rows, view):
    """The operator's document and what a project user receives, the
    latter as the handler builds it (:func:`security.project_view`)."""
    document = security.assess(CTX, db, catalog, view, rows, db_api.now())
    return document, security.project_view(document)


def assert_no_secret(document):
    text = json.dumps(document)
    for secret in SECRETS:
        assert secret not in text, (secret, text)


def test_a_host_without_a_row_is_named_to_the_operator_only(db, catalog,
                                                           rows):
    document, seen = both(db, catalog, rows, server(ROWLESS, '1'))
    assert ROWLESS in document['reason']
    assert document['host'] == ROWLESS
    assert_no_secret(seen)
    assert seen['compliant'] is False
    assert seen['trigger'] == triggers.UNREACHABLE
    assert seen['reason'] == security.WHY[triggers.UNREACHABLE]
    assert 'host' not in seen and 'host_state' not in seen


def test_an_untrusted_server_is_a_sentence_without_the_monitors_detail(
        db, catalog, rows):
    document, seen = both(db, catalog, rows, server(ATTACKED, '6'))
    assert MONITOR_DETAIL in document['reason']
    assert MONITOR_DETAIL in document['host_state']['reason']
    assert_no_secret(seen)
    assert seen['trigger'] == triggers.TRUST_LOSS
    assert seen['reason'].startswith('its server is untrusted')
    assert seen['architecture'] == 'TPM'


def test_an_unmet_request_names_the_cells_and_the_architecture(db, catalog,
                                                               rows):
    document, seen = both(db, catalog, rows, server(TRUSTED, '6'))
    assert_no_secret(seen)
    assert TRUSTED in document['reason']
    assert seen['trigger'] == triggers.POLICY_CHANGE
    assert seen['unmet']['matrix'] == {'Other Apps': ['C', 'I']}
    assert seen['architecture'] == 'HyperWall'
    assert seen['reason'] == ('%s: it lacks C, I against Other Apps'
                              % security.WHY[triggers.POLICY_CHANGE])


def test_the_last_rejection_is_its_class_and_time_to_a_project(db, catalog,
                                                               rows):
    view = server(None, '6')
    db_rejections.record(CTX, view.id, FILTER_REASON)
    document, seen = both(db, catalog, rows, view)
    assert_no_secret(seen)
    assert document['last_rejection']['reason'] == FILTER_REASON
    assert document['last_rejection']['code'] == security.REJECTED
    assert seen['last_rejection'] == {
        'code': security.REJECTED, 'reason': security.REJECTED_WHY,
        'at': document['last_rejection']['at']}
    assert seen['last_rejection']['at'] is not None


def test_a_parked_vm_says_what_was_done_not_the_tasks_reason(db, catalog,
                                                             rows):
    view = server(ROWLESS, '6')
    store = relocation_db.RelocationStore(db)
    task, _created = store.task_open(
        CTX, view.id, triggers.UNREACHABLE, ROWLESS,
        reason='%s has no trust record' % ROWLESS)
    store.task_update(CTX, task.id, state=triggers.PARKED, action='pause',
                      reason='no compliant host left: migrations to %s '
                             'failed' % TRUSTED)
    document, seen = both(db, catalog, rows, view)
    assert TRUSTED in document['paused']['reason']
    assert_no_secret(seen)
    assert seen['paused'] == {'paused': True, 'action': 'pause',
                              'reason': security.PARKED['pause']}
    assert seen['relocation'] == {
        'state': triggers.PARKED, 'trigger': triggers.UNREACHABLE,
        'reason': security.WHY[triggers.UNREACHABLE]}


def test_a_code_nobody_wrote_is_not_echoed(db, catalog, rows):
    view = server(ROWLESS, '1')
    store = relocation_db.RelocationStore(db)
    store.task_open(CTX, view.id, ROWLESS, ROWLESS, reason=ROWLESS)
    _document, seen = both(db, catalog, rows, view)
    assert_no_secret(seen)
    assert seen['relocation'] == {'state': triggers.PENDING, 'trigger': None,
                                  'reason': None}


def test_every_trigger_and_no_host_action_has_its_sentence():
    assert set(security.WHY) == set(triggers.ALL)
    assert set(security.PARKED) == set(relocation_conf.NO_HOST_ACTIONS)
