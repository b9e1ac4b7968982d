"""The keyed audit chain against someone who can write the database but
holds no key: each tamper, done as well as it can be done without the key
(every later link recomputed), on the real SQLite database the migrations
build, seen by ``sod-nova audit verify``, by the API's pages and by the
compliance reports."""

import logging
import os
import subprocess
import sys

import pytest
import sqlalchemy as sa
import webob

from sod_nova.api import deploy
from sod_nova.api import util
from sod_nova.api.handlers import compliance as compliance_handler
from sod_nova.api.objects import compliance as compliance_obj
from sod_nova.cli import audit as audit_cli
from sod_nova.cloud import api_server
from sod_nova.conf import CONF
from sod_nova.db import api as db_api
from sod_nova.db import audit
from sod_nova.db import relocation as relocation_db
from sod_nova.relocation import audit_events

OPENSTACK = os.path.join(os.path.dirname(sys.executable), 'openstack')
CTX = db_api.Context()
ADMIN = {'X-Auth-Token': 'admin:admin', 'X-Roles': 'admin,member,reader'}


@pytest.fixture
def store(db, tmp_path):
    audit.write_key(tmp_path / 'audit.key')
    CONF.set_override('key_file', str(tmp_path / 'audit.key'), 'sod_audit')
    yield relocation_db.RelocationStore(CONF)
    CONF.clear_override('key_file', 'sod_audit')
    CONF.clear_override('checkpoint_interval', 'sod_audit')


def append(store, n, vm='vm1', start=0):
    for i in range(start, start + n):
        store.audit_append(CTX, {'event': 'decided', 'vm': vm, 'at': 1000.0 + i,
                            'trigger': 'trust-loss', 'reason': 'entry %d' % i})


# -- the attacker: database access, no key ------------------------------------

def _columns():
    inspector = sa.inspect(db_api.get_engine(CONF))
    return {c['name'] for c in inspector.get_columns('relocation_audit')}


def _rows():
    with db_api.get_engine(CONF).begin() as conn:
        return [dict(r._mapping) for r in conn.execute(sa.text(
            'SELECT * FROM relocation_audit ORDER BY seq'))]


def rewrite(rows, since):
    """Store ``rows`` as the chain, every link from seq ``since`` on
    recomputed (sha256, the best one can do without the key; the columns
    an index copies kept in step, the link marked unkeyed)."""
    columns = _columns()
    prev = audit.GENESIS
    with db_api.get_engine(CONF).begin() as conn:
        conn.execute(sa.text('DELETE FROM relocation_audit'))
        for row in rows:
            if row['seq'] >= since:
                row = dict(row, prev_hash=prev, hash=audit.link_hash(
                    prev, row['entry']), alg=None)
            prev = row['hash']
            values = {k: v for k, v in row.items() if k in columns}
            if 'vm' in columns:
                data = audit.json.loads(row['entry'])
                values.update(vm=data.get('vm'), event=data.get('event'),
                              at=data.get('at'))
            names = ', '.join(values)
            conn.execute(sa.text('INSERT INTO relocation_audit (%s) VALUES (%s)'
                                 % (names, ', '.join(':' + k for k in values))),
                         values)


def rewrite_middle():
    rows = _rows()
    data = audit.json.loads(rows[2]['entry'])
    rows[2]['entry'] = audit.canonical(dict(data, reason='nothing happened'))
    rewrite(rows, 3)


def delete_and_renumber():
    rows = _rows()
    del rows[2]
    for number, row in enumerate(rows, 1):
        row['seq'] = number
    rewrite(rows, 3)


def swap():
    rows = _rows()
    rows[2]['entry'], rows[3]['entry'] = rows[3]['entry'], rows[2]['entry']
    rewrite(rows, 3)


def redate():
    with db_api.get_engine(CONF).begin() as conn:
        conn.execute(sa.text('UPDATE relocation_audit SET created_at = '
                             'created_at - 86400 WHERE seq = 3'))


def truncate():
    with db_api.get_engine(CONF).begin() as conn:
        conn.execute(sa.text('DELETE FROM relocation_audit WHERE seq > 4'))


TAMPERS = [rewrite_middle, delete_and_renumber, swap, redate]


@pytest.mark.parametrize('tamper', TAMPERS)
def test_each_tamper_without_the_key_breaks_the_chain_at_its_entry(store,
                                                                   tamper):
    append(store, 6)
    assert audit_cli.verify_chain(CTX, store)[0] is None
    tamper()
    broken = audit_cli.verify_chain(CTX, store)[0]
    assert broken is not None and broken.seq == 3, broken


def test_a_full_rewrite_without_the_key_is_not_anchored(store):
    append(store, 6)
    rows = _rows()
    rows[0]['entry'] = audit.canonical(dict(audit.json.loads(rows[0]['entry']),
                                            reason='rewritten'))
    rewrite(rows, 1)
    broken = audit_cli.verify_chain(CTX, store)[0]
    assert broken is not None and 'not anchored' in broken.reason


def test_a_cut_tail_breaks_against_the_kept_head(store):
    append(store, 6)
    _, _, head = audit_cli.verify_chain(CTX, store)
    assert audit_cli.verify_chain(CTX, store, expect_head=head)[0] is None
    truncate()
    broken = audit_cli.verify_chain(CTX, store, expect_head=head)[0]
    assert broken is not None and broken.seq == 5
    assert 'expected head %s is not in the chain' % head in broken.reason


def test_a_cut_tail_breaks_below_the_newest_checkpoint(store, caplog):
    caplog.set_level(logging.INFO, logger='sod_nova.db.relocation')
    CONF.set_override('checkpoint_interval', 5, 'sod_audit')
    append(store, 6)
    assert [c.seq for c in store.audit_checkpoints(CTX)] == [5]
    assert 'audit checkpoint: entry 5 head %s' % store.audit_entries(CTX)[4].hash \
        in caplog.text
    truncate()
    broken = audit_cli.verify_chain(CTX, store)[0]
    assert (broken.seq, broken.reason) == (
        5, 'missing: a checkpoint names it, the chain was cut below it')


def test_a_forged_checkpoint_is_refused(store):
    CONF.set_override('checkpoint_interval', 2, 'sod_audit')
    append(store, 4)
    with db_api.get_engine(CONF).begin() as conn:
        conn.execute(sa.text("UPDATE relocation_audit_checkpoints SET mac = "
                             "'%s' WHERE seq = 4" % ('0' * 64)))
    broken = audit_cli.verify_chain(CTX, store)[0]
    assert (broken.seq, broken.reason) == (4, "its checkpoint's MAC does not "
                                              "match")


def test_the_wrong_key_verifies_nothing(store, tmp_path):
    append(store, 2)
    audit.write_key(tmp_path / 'other.key')
    other = audit.load_key(tmp_path / 'other.key')
    broken = audit.verify(store.audit_entries(CTX), other)
    assert broken.seq == 1 and 'MAC does not match' in broken.reason


# -- typed entries ----------------------------------------------------------------

@pytest.mark.parametrize('entry', [
    {'event': 'decided', 'vm': 'vm1', 'at': 'noon'},
    {'event': 'decided', 'vm': 'vm1', 'at': 1e300},
    {'event': 'decided', 'vm': ['vm1'], 'at': 1.0},
    {'event': 'moved', 'vm': 'vm1', 'at': 1.0, 'compliant': 'yes'},
    {'event': 'decided', 'vm': 'vm1', 'at': 1.0, 'event_at': {}},
    {'vm': 'vm1', 'at': 1.0},
    [1, 2],
])
def test_a_malformed_entry_is_refused_by_the_writer(store, entry):
    with pytest.raises(ValueError, match='audit entry refused: entry'):
        store.audit_append(CTX, entry)
    assert store.audit_entries(CTX) == []


def test_verify_names_a_malformed_entry_even_with_a_good_mac(store):
    """A writer's bug rather than an attack: the MAC holds, the type not."""
    append(store, 2)
    key, text = store.audit_key(), '{"at":"noon","event":"decided","vm":"vm1"}'
    [first, second] = store.audit_entries(CTX)
    with db_api.get_engine(CONF).begin() as conn:
        conn.execute(sa.text(
            'UPDATE relocation_audit SET entry = :e, at = NULL, hash = :h '
            'WHERE seq = 2'), {'e': text, 'h': audit.entry_mac(
                key, 2, second.created_at, first.hash, text)})
    broken = audit_cli.verify_chain(CTX, store)[0]
    assert (broken.seq, broken.reason) == (
        2, "entry field 'at' has a wrong type or range")


def test_the_cli_exits_1_on_a_cut_tail_and_2_without_a_key(store, tmp_path):
    append(store, 3)
    head = store.audit_entries(CTX)[-1].hash
    config = tmp_path / 'sod.conf'

    def run(*args, key=True):
        text = '[sod_database]\nconnection = %s\n' % CONF.sod_database.connection
        if key:
            text += '[sod_audit]\nkey_file = %s\n' % CONF.sod_audit.key_file
        config.write_text(text)
        return subprocess.run(
            [sys.executable, '-m', 'sod_nova.cmd.manage', '--config-file',
             str(config), 'audit', 'verify', *args],
            capture_output=True, text=True, timeout=60)

    assert run('--expect-head', head).returncode == 0
    truncate()
    with db_api.get_engine(CONF).begin() as conn:
        conn.execute(sa.text('DELETE FROM relocation_audit WHERE seq = 3'))
    result = run('--expect-head', head)
    assert result.returncode == 1
    assert 'BROKEN at entry 3: the expected head %s' % head in result.stdout
    result = run(key=False)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        'sod-nova: [sod_audit] key_file is not set: the audit chain needs a key the '
        'database does not hold (e.g. "openssl rand -hex 32 > '
        '/etc/sod_nova/audit.key")']
    result = run('--expect-head', 'zz')
    assert result.returncode == 2 and 'Traceback' not in result.stderr


@pytest.mark.parametrize('content, message', [
    (b'', 'holds 0 bytes; at least 32'),
    (b'00' * 31, 'holds 31 bytes; at least 32'),
    (b'\xff\xfe', 'must hold hex digits'),
    (b'a' * 5000, 'is larger than 4096 bytes'),
])
def test_a_bad_key_file_is_one_line(tmp_path, content, message):
    path = tmp_path / 'k'
    path.write_bytes(content)
    with pytest.raises(audit.AuditKeyError, match=message):
        audit.load_key(str(path))
    with pytest.raises(audit.AuditKeyError, match='cannot be read'):
        audit.load_key(str(tmp_path / 'missing'))


# -- legacy chains ----------------------------------------------------------------

def _legacy(n):
    """``n`` links as sod-nova wrote them before the key."""
    prev = audit.GENESIS
    with db_api.get_engine(CONF).begin() as conn:
        for seq in range(1, n + 1):
            text = audit.canonical({'event': 'decided', 'vm': 'vm1',
                                    'at': float(seq)})
            digest = audit.link_hash(prev, text)
            conn.execute(sa.text(
                'INSERT INTO relocation_audit (seq, created_at, entry, '
                'prev_hash, hash, vm, event, at) VALUES (:s, :c, :e, :p, :h, '
                "'vm1', 'decided', :s)"),
                {'s': seq, 'c': float(seq), 'e': text, 'p': prev, 'h': digest})
            prev = digest
    return prev


def test_a_legacy_chain_is_anchored_by_its_first_keyed_link(store):
    legacy_head = _legacy(3)
    broken = audit_cli.verify_chain(CTX, store)[0]
    assert 'not anchored' in broken.reason
    broken, count, head = audit_cli.verify_chain(CTX, store, anchor=True)
    assert (broken, count) == (None, 4)
    anchor = store.audit_entries(CTX)[-1]
    assert anchor.prev_hash == legacy_head and anchor.alg == audit.HMAC_SHA256
    assert anchor.data['legacy_head'] == legacy_head
    assert anchor.data['legacy_entries'] == 3
    # The legacy links are now fixed by the anchor's MAC: a rewritten one,
    # its sha256 recomputed, no longer links to it.
    rows = _rows()
    text = audit.canonical({'event': 'decided', 'vm': 'vm1', 'at': 3.0,
                            'reason': 'rewritten'})
    with db_api.get_engine(CONF).begin() as conn:
        conn.execute(sa.text("UPDATE relocation_audit SET entry = :e, hash = :h "
                             "WHERE seq = 3"),
                     {'e': text, 'h': audit.link_hash(rows[2]['prev_hash'], text)})
    broken = audit_cli.verify_chain(CTX, store)[0]
    assert (broken.seq, broken.reason) == (
        4, 'prev_hash does not match the hash of entry 3')


# -- the API's pages ----------------------------------------------------------------

@pytest.fixture
def app(store):
    CONF([], project='sod_nova', default_config_files=[],
         default_config_dirs=[])
    CONF.set_override('auth_strategy', 'noauth2', 'sod_api')
    yield deploy.deploy(CONF)
    CONF.clear_override('auth_strategy', 'sod_api')
    CONF.reset()


def page(app, query=''):
    resp = webob.Request.blank('/audit?limit=3' + query,
                               headers=ADMIN).get_response(app)
    assert resp.status_int == 200, resp.text
    return resp.json


@pytest.mark.parametrize('tamper', TAMPERS)
def test_the_api_pages_see_each_tamper(app, store, tamper):
    append(store, 6)
    assert page(app, '&marker=2')['verification']['intact'] is True
    tamper()
    check = page(app, '&marker=2')['verification']
    assert (check['intact'], check['break']['seq']) == (False, 3)


def test_the_api_pages_see_a_cut_tail(app, store):
    append(store, 6)
    head = store.audit_entries(CTX)[-1].hash
    assert page(app, '&expect_head=' + head)['verification']['intact'] is True
    truncate()
    body = page(app, '&expect_head=' + head)
    assert body['verification']['intact'] is False
    assert 'expected head' in body['verification']['break']['reason']
    assert page(app)['verification']['intact'] is True   # no anchor kept


def test_the_api_without_a_key_verifies_nothing(app, store):
    append(store, 2)
    CONF.clear_override('key_file', 'sod_audit')
    check = page(app)['verification']
    assert check['intact'] is False
    assert check['break'] == {'seq': 1, 'reason': 'no [sod_audit] key_file '
                              'here: its MAC cannot be checked'}


def test_the_api_refuses_a_bad_expected_head(app):
    resp = webob.Request.blank('/audit?expect_head=HEAD',
                               headers=ADMIN).get_response(app)
    assert resp.status_int == 400


def test_openstack_sod_audit_list_sees_a_cut_tail(store):
    CONF([], project='sod_nova', default_config_files=[],
         default_config_dirs=[])
    CONF.set_override('auth_strategy', 'noauth2', 'sod_api')
    server = api_server.LoopbackAPI(CONF)
    server.setUp()
    try:
        append(store, 6)
        head = store.audit_entries(CTX)[-1].hash

        def audit_list():
            env = {k: v for k, v in os.environ.items()
                   if not k.startswith('OS_')}
            return subprocess.run(
                [OPENSTACK, '--os-auth-type', 'admin_token', '--os-endpoint',
                 server.url, '--os-token', 'admin:admin', 'sod', 'audit',
                 'list', '--limit', '2', '--expect-head', head, '-f', 'value'],
                capture_output=True, text=True, env=env, timeout=120)

        assert audit_list().returncode == 0
        truncate()
        result = audit_list()
        assert result.returncode == 1
        assert 'the expected head %s is not in the chain' % head in result.stderr
    finally:
        server.cleanUp()
        CONF.clear_override('auth_strategy', 'sod_api')
        CONF.reset()


# -- compliance reports --------------------------------------------------------------

def test_a_report_reads_only_its_vm_and_shows_a_bad_entry_as_unreadable(store):
    append(store, 3, vm='vm1')
    append(store, 3, vm='vm2', start=3)
    # Another VM's entry made unreadable does not touch vm1's report.
    with db_api.get_engine(CONF).begin() as conn:
        conn.execute(sa.text("UPDATE relocation_audit SET entry = '[1]' "
                             "WHERE seq = 5"))
    reader = compliance_obj.Reader(CONF, store.audit_key())
    assert [e['reason'] for e in reader.entries('vm1', 0.0)] == [
        'entry 0', 'entry 1', 'entry 2']
    with pytest.raises(compliance_obj.Unreadable) as info:
        reader.entries('vm2', 0.0)
    report = compliance_obj.report('vm2', info.value, 0.0, 2000.0,
                                   hosts_visible=False)
    [violation] = report['violations']
    assert violation['cause'] == compliance_obj.UNREADABLE
    assert report['seconds_violated'] == 2000.0
    assert report['compliant_ratio'] == 0.0
    assert '(entry 5)' in violation['reason']


def test_a_report_reads_from_the_last_reset_before_its_window(store):
    for event, at in (('decided', 10.0), ('resumed', 20.0), ('decided', 30.0),
                      ('resumed', 40.0), ('decided', 50.0)):
        store.audit_append(CTX, {'event': event, 'vm': 'vm1', 'at': at,
                            'trigger': 'trust-loss'})
    reader = compliance_obj.Reader(CONF, store.audit_key())
    assert [e['at'] for e in reader.entries('vm1', 45.0)] == [40.0, 50.0]
    assert [e['at'] for e in reader.entries('vm1', 35.0)] == [
        20.0, 30.0, 40.0, 50.0]
    assert len(reader.entries('vm1', 0.0)) == 5


def test_a_project_report_holds_no_host_by_construction(store):
    entries = [
        {'event': 'decided', 'vm': 'vm1', 'at': 10.0, 'trigger': 'trust-loss',
         'cause': 'trust-loss@compute-17.dc1.internal#0',
         'from': 'compute-17.dc1.internal',
         'reason': 'compute-17.dc1.internal: PCR 7 mismatch'},
        {'event': 'parked', 'vm': 'vm1', 'at': 12.0, 'action': 'pause',
         'reason': 'no host but compute-17.dc1.internal'},
        {'event': 'moved', 'vm': 'vm1', 'at': 20.0, 'to': 'compute-18.dc1',
         'migration': '7', 'kind': 'live', 'compliant': True},
        {'event': 'resumed', 'vm': 'vm1', 'at': 21.0,
         'outcome': 'resumed on compute-18.dc1'},
    ]
    report = compliance_obj.report('vm1', entries, 0.0, 100.0,
                                   hosts_visible=False)
    assert 'compute-1' not in repr(report)
    [violation] = report['violations']
    assert violation['cause'] == 'trust-loss'
    assert violation['ended_by']['event'] == 'parked'
    [pause] = report['pauses']
    assert pause['ended_by'] == {'event': 'resumed', 'migration': '7'}
    operator = compliance_obj.report('vm1', entries, 0.0, 100.0)
    assert operator['violations'][0]['from'] == 'compute-17.dc1.internal'


@pytest.mark.parametrize('value', [
    '0001-01-01T00:00:00+01:00', '9999-12-31T23:59:59-01:00',
    '0001-01-01T00:00:00Z', '1969-12-31T23:59:59Z', '9999-12-31T23:59:59.9-14:00',
    'not a time'])
def test_a_window_at_the_datetime_limits_is_400(value):
    with pytest.raises(util.ApiError) as info:
        compliance_handler.window({'start': value})
    assert info.value.status == 400
    with pytest.raises(util.ApiError) as info:
        compliance_handler.window({'end': value})
    assert info.value.status == 400


def test_a_window_at_the_last_second_is_fine():
    start, end = compliance_handler.window({'start': '1970-01-01T00:00:00Z',
                                            'end': '9999-12-31T23:59:59Z'})
    assert (start, end) == (0.0, audit.MAX_TIME)


# -- where legacy links end: the anchor's keyed count, not the alg column ------------

def report_of(store, vm='vm1'):
    """``(seconds violated, causes)`` of ``vm``'s report over [0, 2000]."""
    reader = compliance_obj.Reader(CONF, store.audit_key())
    try:
        entries = reader.entries(vm, 0.0)
    except compliance_obj.Unreadable as exc:
        entries = exc
    report = compliance_obj.report(vm, entries, 0.0, 2000.0)
    return report['seconds_violated'], [v['cause'] for v in report['violations']]


def _trust_loss_of_vm1(store):
    """vm1 violated from 1000 until moved at 1500, among other VMs'."""
    store.audit_append(CTX, {'event': 'decided', 'vm': 'vm2', 'at': 900.0,
                        'trigger': 'moving-target'})
    store.audit_append(CTX, {'event': 'decided', 'vm': 'vm1', 'at': 1000.0,
                        'trigger': 'trust-loss', 'cause': 'trust-loss@hw1#1',
                        'from': 'hw1', 'event_at': 1000.0})
    store.audit_append(CTX, {'event': 'moved', 'vm': 'vm1', 'at': 1500.0,
                        'compliant': True, 'to': 'hw2'})
    store.audit_append(CTX, {'event': 'gone', 'vm': 'vm3', 'at': 1600.0})
    store.audit_append(CTX, {'event': 'decided', 'vm': 'vm2', 'at': 1700.0,
                        'trigger': 'moving-target'})


def mark_legacy(seqs, rewrite_seq=None, **change):
    """Mark links ``seqs`` unkeyed, each one's sha256 recomputed over its
    own prev_hash (what a writer without the key can do), the entry at
    ``rewrite_seq`` changed first."""
    with db_api.get_engine(CONF).begin() as conn:
        for row in _rows():
            if row['seq'] not in seqs:
                continue
            text = row['entry']
            if row['seq'] == rewrite_seq:
                text = audit.canonical(dict(audit.json.loads(text), **change))
            conn.execute(sa.text(
                'UPDATE relocation_audit SET alg = NULL, entry = :e, hash = :h '
                'WHERE seq = :s'), {'e': text, 's': row['seq'],
                                    'h': audit.link_hash(row['prev_hash'], text)})


def test_keyed_links_marked_legacy_are_no_legacy_links(app, store):
    """A fresh install has no legacy links: marking keyed ones unkeyed
    (their sha256 recomputed) and turning vm1's trust loss into a
    moving-target move leaves its report unreadable, never empty, and every
    reader names the first of them."""
    _trust_loss_of_vm1(store)
    assert report_of(store) == (500.0, ['trust-loss@hw1#1'])
    mark_legacy({1, 2, 3}, rewrite_seq=2, trigger='moving-target')
    assert report_of(store) == (2000.0, [compliance_obj.UNREADABLE])
    broken = audit_cli.verify_chain(CTX, store)[0]
    assert (broken.seq, broken.reason) == (1, audit.UNANCHORED)
    check = page(app)['verification']
    assert check['break'] == {'seq': 1, 'reason': audit.UNANCHORED}


def test_an_api_page_of_links_rewritten_as_legacy_is_broken(app, store):
    """The reviewer's page: links 1..4 rewritten as one sha256 chain (entry
    3 changed); the page after marker 2 holds entry 3."""
    append(store, 8)
    prev = audit.GENESIS
    with db_api.get_engine(CONF).begin() as conn:
        for row in _rows()[:4]:
            text = row['entry']
            if row['seq'] == 3:
                text = audit.canonical(dict(audit.json.loads(text),
                                            trigger='moving-target'))
            digest = audit.link_hash(prev, text)
            conn.execute(sa.text(
                'UPDATE relocation_audit SET alg = NULL, entry = :e, '
                'prev_hash = :p, hash = :h WHERE seq = :s'),
                {'e': text, 'p': prev, 'h': digest, 's': row['seq']})
            prev = digest
    resp = webob.Request.blank('/audit?marker=2&limit=2',
                               headers=ADMIN).get_response(app)
    check = resp.json['verification']
    assert check['intact'] is False
    assert check['break'] == {'seq': 3, 'reason': audit.UNANCHORED}


def test_after_an_upgrade_only_the_links_the_anchor_counts_are_legacy(app,
                                                                      store):
    _legacy(3)
    # The manager's next entry anchors the legacy head first, by itself.
    _trust_loss_of_vm1(store)
    rows = store.audit_entries(CTX)
    assert [r.alg for r in rows] == [None] * 3 + [audit.HMAC_SHA256] * 6
    assert rows[3].data == {'event': audit.ANCHORED, 'at': rows[3].data['at'],
                            'legacy_head': rows[2].hash, 'legacy_entries': 3}
    assert audit_events.ANCHORED == audit.ANCHORED
    assert audit_cli.verify_chain(CTX, store)[0] is None
    assert page(app, '&marker=2')['verification']['intact'] is True
    # The legacy entries stand (vm1's decisions at 1..3 open no violation).
    assert report_of(store) == (500.0, ['trust-loss@hw1#1'])
    mark_legacy({5, 6}, rewrite_seq=6, trigger='moving-target')
    assert report_of(store) == (2000.0, [compliance_obj.UNREADABLE])
    assert audit_cli.verify_chain(CTX, store)[0] == audit.Break(5, audit.UNANCHORED)
    assert page(app, '&marker=4')['verification']['break'] == {
        'seq': 5, 'reason': audit.UNANCHORED}


def test_an_anchor_marked_legacy_anchors_nothing(store):
    _legacy(3)
    _trust_loss_of_vm1(store)
    mark_legacy({4, 5, 6, 7})
    # The first keyed link is now an ordinary entry: no link is legacy.
    assert report_of(store) == (2000.0, [compliance_obj.UNREADABLE])
    assert audit_cli.verify_chain(CTX, store)[0] == audit.Break(1, audit.UNANCHORED)


def test_a_reset_chosen_by_its_index_columns_is_checked(store):
    """Another VM's ``gone``, its indexed copies made vm1's before the
    window, would hide vm1's trust loss; it is read and fails its check."""
    _trust_loss_of_vm1(store)
    assert report_of(store) == (500.0, ['trust-loss@hw1#1'])
    with db_api.get_engine(CONF).begin() as conn:
        conn.execute(sa.text("UPDATE relocation_audit SET vm = 'vm1', at = -1 "
                             "WHERE seq = 4"))
    assert report_of(store) == (2000.0, [compliance_obj.UNREADABLE])
    with pytest.raises(compliance_obj.Unreadable) as info:
        compliance_obj.Reader(CONF, store.audit_key()).entries('vm1', 0.0)
    assert (info.value.seq, info.value.reason) == (
        4, 'its indexed columns (vm, event, at) disagree with the entry')
