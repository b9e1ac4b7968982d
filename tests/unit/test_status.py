"""``sod-nova-status upgrade check`` (each check, passing and failing) and the
services' refusal of the in-memory ``fake://`` transport."""

import json
import secrets
import signal
import subprocess
import sys

from oslo_config import cfg
from oslo_upgradecheck import upgradecheck
import pytest

from sod_nova.cmd import status
import sod_nova.conf
from sod_nova.db import api as db_api
from sod_nova.db import migration as db_migration
from sod_nova.trust import challenges
from sod_nova.trust import nonces
from sod_nova.trust import rpc

SUCCESS = upgradecheck.Code.SUCCESS
WARNING = upgradecheck.Code.WARNING
FAILURE = upgradecheck.Code.FAILURE
RABBIT = 'rabbit://sod:secret@controller:5672/'
#: A compute endpoint nothing listens on (port 1): Nova unreachable.
NO_NOVA = 'http://127.0.0.1:1/v2.1'
FLAVOR_CHECK = 'Flavors launch the guests their sod: requests need'
KEY_CHECK = 'Keys the services of this node need'
STATUS = 'sod_nova.cmd.status'

NOVA_CONF = """\
[filter_scheduler]
available_filters = nova.scheduler.filters.all_filters
available_filters = sod_nova.scheduler.filters.SecurityOnDemandFilter
enabled_filters = ComputeFilter,ImagePropertiesFilter,SecurityOnDemandFilter
[notifications]
notify_on_state_change = vm_and_task_state
notification_format = both
[oslo_messaging_notifications]
driver = messagingv2
"""

#: One line of NOVA_CONF changed, and what the failure must say.
NOVA_FAULTS = {
    'not available': (
        ('available_filters = sod_nova.scheduler.filters.SecurityOnDemandFilter\n',
         ''),
        'does not list sod_nova.scheduler.filters.SecurityOnDemandFilter'),
    'not enabled': (
        (',SecurityOnDemandFilter', ''),
        'does not include SecurityOnDemandFilter'),
    'unversioned': (
        ('notification_format = both', 'notification_format = unversioned'),
        'notification_format is unversioned'),
    'no state change': (
        ('notify_on_state_change = vm_and_task_state\n', ''),
        'notify_on_state_change is not set'),
    'no bus driver': (
        ('driver = messagingv2', 'driver = log'),
        '[oslo_messaging_notifications] driver is log'),
    'other topic': (
        ('[notifications]\n',
         '[notifications]\nversioned_notifications_topics = elsewhere\n'),
        'versioned_notifications_topics does not include versioned_notifications'),
}


def write_keys(tmp_path):
    """``{option: path}`` of the three keys, as an operator makes them:
    ``openssl rand -hex 32`` twice, and the monitor group's challenge key
    as ``sod-nova trust challenge-key`` prints it."""
    paths = {name: tmp_path / name for name in
             ('nonce.key', 'audit.key', 'challenge.pub')}
    for name in ('nonce.key', 'audit.key'):
        paths[name].write_text(secrets.token_hex(32) + '\n')
    paths['challenge.pub'].write_text(challenges.public_key_text(
        nonces.load_key(paths['nonce.key'])) + '\n')
    return {'nonce_key_file': paths['nonce.key'],
            'key_file': paths['audit.key'],
            'challenge_public_key_file': paths['challenge.pub']}


#: The group of each key's option.
KEY_GROUPS = {'nonce_key_file': 'sod_trust', 'key_file': 'sod_audit',
              'challenge_public_key_file': 'sod_trust'}


def make_conf(tmp_path, nova_text=NOVA_CONF, transport_url=RABBIT, sync=True,
              node='', database=True):
    """The configuration of a controller (its file names the database),
    its three keys written and set; ``node``: more of its file (an agent's
    options), ``database=False``: a file without ``[sod_database]``."""
    nova = tmp_path / 'nova.conf'
    nova.write_text(nova_text)
    sod = tmp_path / 'sod.conf'
    sod.write_text(('[sod_database]\nconnection = sqlite:///%s/sod.db\n'
                    % tmp_path if database else '') + node)
    conf = cfg.ConfigOpts()
    for module in sod_nova.conf._MODULES:
        module.register_opts(conf)
    rpc.register_transport_opts(conf)
    conf(['--config-file', str(sod)], default_config_files=[])
    conf.clear_override('connection', 'sod_database')   # another test's
    conf.set_override('nova_config_files', [str(nova)], 'sod_upgrade_check')
    for option, path in write_keys(tmp_path).items():
        conf.set_override(option, str(path), KEY_GROUPS[option])
    if transport_url is not None:
        conf.set_override('transport_url', transport_url)
    if sync:
        db_migration.sync(conf)
    return conf


@pytest.fixture(autouse=True)
def _dispose():
    yield
    db_api.dispose()
    # make_conf's ConfigOpts share their groups' options with every other
    # (oslo.config copies a registered OptGroup shallowly): what it set
    # would reach the next test's configuration, even a new ConfigOpts.
    conf = cfg.ConfigOpts()
    for module in sod_nova.conf._MODULES:
        module.register_opts(conf)
    for option, group in KEY_GROUPS.items():
        conf.clear_override(option, group)
    conf.clear_override('nova_config_files', 'sod_upgrade_check')


@pytest.fixture
def override():
    """``override(conf, name, value, group)``, cleared after the test: the
    ConfigOpts of make_conf share their groups' options (oslo.config copies
    a registered OptGroup shallowly), so an override would outlive it."""
    done = []

    def set_override(conf, name, value, group):
        conf.set_override(name, value, group)
        done.append((conf, name, group))
    yield set_override
    for conf, name, group in done:
        conf.clear_override(name, group)


def result(conf, check):
    return getattr(status.Checks(conf), check)()


def test_every_check_passes_on_a_good_deployment(tmp_path):
    # All but the flavor check, which reads Nova's flavors: against real
    # Nova in tests/functional/test_api_servers.py.
    checks = status.Checks(make_conf(tmp_path))
    for name, check in checks._upgrade_checks:
        if check is status.Checks._check_flavor_guests:
            continue
        outcome = check(checks)
        assert outcome.code == SUCCESS, (name, outcome.details)


def test_database_never_synced_says_run_db_sync(tmp_path):
    outcome = result(make_conf(tmp_path, sync=False), '_check_database')
    assert outcome.code == FAILURE
    assert outcome.details == (
        'the sod-nova database is at revision none (never synced), the code '
        'needs %s: run "sod-nova db sync"' % db_migration.head())


def test_database_behind_head_names_both_revisions(tmp_path):
    conf = make_conf(tmp_path, sync=False)
    db_migration.sync(conf, revision='0002_trust_enrollment')
    outcome = result(conf, '_check_database')
    assert outcome.code == FAILURE
    assert 'at revision 0002_trust_enrollment' in outcome.details


def test_unreachable_database_is_a_failure_not_a_traceback(tmp_path):
    conf = make_conf(tmp_path, sync=False)
    conf.set_override('connection', 'mysql+pymysql://sod:x@127.0.0.1:1/sod',
                      'sod_database')
    conf.set_override('max_retries', 0, 'sod_database')
    outcome = result(conf, '_check_database')
    assert outcome.code == FAILURE
    assert outcome.details.startswith('cannot read the sod-nova database')


@pytest.mark.parametrize('fault', sorted(NOVA_FAULTS))
def test_nova_configuration_faults(tmp_path, fault):
    (old, new), message = NOVA_FAULTS[fault]
    assert old in NOVA_CONF
    conf = make_conf(tmp_path, NOVA_CONF.replace(old, new, 1))
    check = ('_check_filter' if fault.startswith('not ')
             else '_check_notifications')
    outcome = result(conf, check)
    assert outcome.code == FAILURE
    assert message in outcome.details
    # The other checks on nova.conf still pass: each tests one thing.
    other = ({'_check_filter', '_check_notifications'} - {check}).pop()
    assert result(conf, other).code == SUCCESS


def test_missing_nova_conf_is_a_failure_that_names_it(tmp_path):
    conf = make_conf(tmp_path)
    conf.set_override('nova_config_files', [str(tmp_path / 'nope.conf')],
                      'sod_upgrade_check')
    outcome = result(conf, '_check_filter')
    assert outcome.code == FAILURE
    assert 'cannot read [sod_upgrade_check] nova_config_files' in outcome.details
    assert 'nope.conf' in outcome.details


def test_a_later_nova_file_wins(tmp_path):
    conf = make_conf(tmp_path)
    second = tmp_path / 'sod-in-nova.conf'
    second.write_text('[filter_scheduler]\nenabled_filters = ComputeFilter\n')
    conf.set_override('nova_config_files', [str(tmp_path / 'nova.conf'),
                                            str(second)], 'sod_upgrade_check')
    outcome = result(conf, '_check_filter')
    assert outcome.code == FAILURE
    assert 'does not include SecurityOnDemandFilter' in outcome.details


def test_notifications_off_is_a_warning(tmp_path, override):
    conf = make_conf(tmp_path, NOVA_CONF.replace('driver = messagingv2', ''))
    override(conf, 'listen_notifications', False, 'sod_relocation')
    outcome = result(conf, '_check_notifications')
    assert outcome.code == WARNING


@pytest.mark.parametrize('url', [None, 'fake://', 'fake:///', 'sod-memory:/'])
def test_fake_transport_fails(tmp_path, url):
    conf = make_conf(tmp_path, transport_url=url)
    outcome = result(conf, '_check_transport')
    assert outcome.code == FAILURE
    assert outcome.details.startswith('[DEFAULT] transport_url is %s' % (
        url or 'fake:/'))
    assert 'rabbit://USER:PASS@CONTROLLER:5672/' in outcome.details


def test_fake_notification_transport_fails(tmp_path):
    conf = make_conf(tmp_path)
    conf.set_override('transport_url', 'fake://',
                      'oslo_messaging_notifications')
    outcome = result(conf, '_check_transport')
    assert outcome.code == FAILURE
    assert outcome.details.startswith(
        '[oslo_messaging_notifications] transport_url is fake://')


# -- the flavor check where it reads no flavor -----------------------------
# (Flavors read from real Nova: tests/functional/test_api_servers.py.)

def test_an_unusable_catalogue_fails_before_nova_is_asked(tmp_path,
                                                          override):
    conf = make_conf(tmp_path)
    override(conf, 'architectures_file', str(tmp_path / 'missing.yaml'),
             'sod_catalog')
    outcome = result(conf, '_check_flavor_guests')
    assert outcome.code == FAILURE
    assert outcome.details.startswith(
        'the catalogue is unusable ([sod_catalog]): ')
    assert 'missing.yaml' in outcome.details


def test_without_nova_credentials_the_flavors_are_not_read(tmp_path):
    outcome = result(make_conf(tmp_path), '_check_flavor_guests')
    assert outcome.code == WARNING
    assert outcome.details == (
        "cannot read Nova's flavors to check their sod: requests: [nova] has "
        "no credentials (auth_type); run the check with the migration "
        "manager's configuration file")


def test_an_unreachable_nova_is_a_warning_not_a_traceback(tmp_path, override):
    conf = make_conf(tmp_path)
    override(conf, 'auth_type', 'none', 'nova')
    override(conf, 'endpoint_override', NO_NOVA, 'nova')
    outcome = result(conf, '_check_flavor_guests')
    assert outcome.code == WARNING
    assert outcome.details.startswith(
        "cannot read Nova's flavors to check their sod: requests: ")
    assert '127.0.0.1:1' in outcome.details


# -- the keys the services of this node stop at start without ------------

#: What the check says of a key the node needs and does not set.
NOT_SET = {
    'nonce_key_file':
        '[sod_trust] nonce_key_file is not set: sod-trust-monitor stops at '
        'start without it; run "openssl rand -hex 32 > '
        '/etc/sod_nova/nonce.key" (mode 0600, the same file on every monitor '
        'of the group) and set it',
    'key_file':
        '[sod_audit] key_file is not set: sod-migration-manager stops at '
        'start without it; run "openssl rand -hex 32 > '
        '/etc/sod_nova/audit.key" (mode 0600) and set it',
    'challenge_public_key_file':
        '[sod_trust] challenge_public_key_file is not set: sod-trust-agent '
        'stops at start without it; on a monitor run "sod-nova trust '
        'challenge-key > /etc/sod_nova/challenge.pub", copy the file here '
        'and set it',
}
SECRET = secrets.token_hex(32)
#: A key file's content and what the check says of it after its path.
UNUSABLE = {
    'short': (SECRET[:32], 'holds 16 bytes; at least 32 are needed'),
    'not hex': ('base64:' + SECRET, 'must hold hex digits'),
    'binary': (b'\xff' + SECRET.encode(), 'must hold hex digits'),
}
#: The same for the agent's challenge key file.
UNUSABLE_PUBLIC = {
    'the nonce key copied': (SECRET, 'an Ed25519 public key has 32 bytes'),
    'not a key': ('key: ' + SECRET, 'public key is neither PEM nor base64'),
    'binary': (b'\xff' + SECRET.encode(), 'is not text'),
    'empty': ('# copied later\n', 'holds no public key'),
}


#: A compute node's [sod_trust]: its agent's host name and key.
AGENT = '[sod_trust]\nhost = compute-1\nprivate_key_file = /etc/sod_nova/host.key\n'


def test_an_all_in_one_node_loads_all_three_keys(tmp_path, override):
    conf = make_conf(tmp_path, node=AGENT)
    assert result(conf, '_check_keys').code == SUCCESS
    for option in NOT_SET:
        override(conf, option, None, KEY_GROUPS[option])
    outcome = result(conf, '_check_keys')
    assert outcome.code == FAILURE
    assert outcome.details == ' | '.join(
        NOT_SET[o] for o in ('nonce_key_file', 'key_file',
                             'challenge_public_key_file'))


@pytest.mark.parametrize('option', ['nonce_key_file', 'key_file'])
def test_a_controller_without_its_key_says_what_to_run(tmp_path, override,
                                                       option):
    conf = make_conf(tmp_path)
    override(conf, option, None, KEY_GROUPS[option])
    outcome = result(conf, '_check_keys')
    assert outcome.code == FAILURE
    assert outcome.details == NOT_SET[option]


def test_a_controller_needs_no_challenge_key(tmp_path, override):
    conf = make_conf(tmp_path)
    override(conf, 'challenge_public_key_file', None, 'sod_trust')
    assert result(conf, '_check_keys').code == SUCCESS


@pytest.mark.parametrize('sets', ['host', 'private_key_file'])
def test_a_compute_node_needs_only_the_challenge_key(tmp_path, override,
                                                     sets):
    conf = make_conf(tmp_path, sync=False, database=False,
                     node='[sod_trust]\n%s = compute-1\n' % sets)
    for option in ('nonce_key_file', 'key_file'):
        override(conf, option, None, KEY_GROUPS[option])
    assert result(conf, '_check_keys').code == SUCCESS
    override(conf, 'challenge_public_key_file', None, 'sod_trust')
    outcome = result(conf, '_check_keys')
    assert outcome.code == FAILURE
    assert outcome.details == NOT_SET['challenge_public_key_file']


@pytest.mark.parametrize('option', ['nonce_key_file', 'key_file'])
@pytest.mark.parametrize('case', sorted(UNUSABLE))
def test_an_unusable_secret_key_is_named_never_shown(tmp_path, override,
                                                     option, case):
    content, problem = UNUSABLE[case]
    conf = make_conf(tmp_path)
    path = tmp_path / 'bad.key'
    (path.write_bytes if isinstance(content, bytes) else path.write_text)(
        content)
    override(conf, option, str(path), KEY_GROUPS[option])
    outcome = result(conf, '_check_keys')
    assert outcome.code == FAILURE
    assert outcome.details.startswith('[%s] %s %s ' % (
        KEY_GROUPS[option], option, path)), outcome.details
    assert problem in outcome.details
    assert SECRET[:16] not in outcome.details


@pytest.mark.parametrize('case', sorted(UNUSABLE_PUBLIC))
def test_an_unusable_challenge_key_is_named(tmp_path, override, case):
    content, problem = UNUSABLE_PUBLIC[case]
    conf = make_conf(tmp_path, sync=False, database=False, node=AGENT)
    path = tmp_path / 'bad.pub'
    (path.write_bytes if isinstance(content, bytes) else path.write_text)(
        content)
    override(conf, 'challenge_public_key_file', str(path), 'sod_trust')
    outcome = result(conf, '_check_keys')
    assert outcome.code == FAILURE
    assert outcome.details.startswith(
        '[sod_trust] challenge_public_key_file %s' % path), outcome.details
    assert problem in outcome.details
    assert SECRET[:16] not in outcome.details


@pytest.mark.parametrize('option', sorted(NOT_SET))
@pytest.mark.parametrize('missing', ['no file', 'a directory'])
def test_a_key_file_that_cannot_be_read_is_named(tmp_path, override, option,
                                                 missing):
    conf = make_conf(tmp_path, node=AGENT)
    path = tmp_path / 'elsewhere'
    if missing == 'a directory':
        path.mkdir()
    override(conf, option, str(path), KEY_GROUPS[option])
    outcome = result(conf, '_check_keys')
    assert outcome.code == FAILURE
    assert outcome.details == '[%s] %s %s %s' % (
        KEY_GROUPS[option], option, path,
        'is not a regular file' if path.is_dir()
        else 'cannot be read: No such file or directory')


def test_a_challenge_key_of_another_monitor_group_fails(tmp_path, override):
    # All in one: the agent here would drop every challenge its monitor sends.
    conf = make_conf(tmp_path, node=AGENT)
    pub = tmp_path / 'challenge.pub'
    pub.write_text(challenges.public_key_text(nonces.generate_key()) + '\n')
    outcome = result(conf, '_check_keys')
    assert outcome.code == FAILURE
    assert outcome.details == (
        '[sod_trust] challenge_public_key_file %s does not hold the challenge '
        'key of nonce_key_file %s: this agent would drop every challenge of '
        'this monitor group (run "sod-nova trust challenge-key > %s")' % (
            pub, tmp_path / 'nonce.key', pub))
    # While the group's key is rotated the file holds both: that passes.
    pub.write_text(pub.read_text() + challenges.public_key_text(
        nonces.load_key(tmp_path / 'nonce.key')) + '\n')
    assert result(conf, '_check_keys').code == SUCCESS


# -- as an operator runs them ---------------------------------------------

def write_config(tmp_path, text=''):
    """sod-nova's configuration with its keys, its [nova] at a port nothing
    listens on."""
    key = write_keys(tmp_path)
    path = tmp_path / 'sod.conf'
    path.write_text('[sod_database]\nconnection = sqlite:///%s/sod.db\n'
                    '[upgrade_check]\nnova_config_files = %s\n'
                    '[nova]\nauth_type = none\nendpoint_override = %s\n'
                    '[sod_audit]\nkey_file = %s\n'
                    '[sod_trust]\nnonce_key_file = %s\n'
                    'challenge_public_key_file = %s\n%s' % (
                        tmp_path, tmp_path / 'nova.conf', NO_NOVA,
                        key['key_file'], key['nonce_key_file'],
                        key['challenge_public_key_file'], text))
    (tmp_path / 'nova.conf').write_text(NOVA_CONF)
    return path


def test_status_command_json_and_exit_codes(tmp_path, sod_cli):
    # Nova unreachable: the flavor check's warning (exit 1) with the reason;
    # passing against real Nova: tests/functional/test_api_servers.py.
    config = write_config(tmp_path, '[DEFAULT]\ntransport_url = %s\n' % RABBIT)
    before = sod_cli('upgrade', 'check', '--json', module=STATUS, config=config)
    assert before.returncode == 2, before.stderr    # not synced yet
    checks = {c['check']: c['result']
              for c in json.loads(before.stdout)['checks']}
    assert checks.pop('sod-nova database at head') == FAILURE
    assert checks.pop(FLAVOR_CHECK) == WARNING
    assert set(checks.values()) == {SUCCESS}
    sync = sod_cli('db', 'sync', config=config)
    assert sync.returncode == 0, sync.stderr
    after = sod_cli('upgrade', 'check', module=STATUS, config=config)
    assert after.returncode == 1, after.stdout
    assert "cannot read Nova's flavors to check their sod: requests" in \
        after.stdout
    assert 'Traceback' not in after.stdout + after.stderr


def test_a_compute_node_gets_its_challenge_key_as_the_check_says(tmp_path, sod_cli):
    # A compute node's file: an agent, no database. The check names the
    # missing file; the operator prints the key on a monitor and copies it.
    key = write_keys(tmp_path)      # the nonce key stays on the monitors
    pub = tmp_path / 'copied.pub'
    config = tmp_path / 'compute.conf'
    config.write_text('[sod_trust]\nhost = compute-1\nprivate_key_file = %s\n'
                      'challenge_public_key_file = %s\n' % (
                          tmp_path / 'host.key', pub))

    def key_check():
        out = sod_cli('upgrade', 'check', '--json', module=STATUS,
                      config=config)
        assert 'Traceback' not in out.stdout + out.stderr
        return {c['check']: (c['result'], c['details'])
                for c in json.loads(out.stdout)['checks']}[KEY_CHECK]

    assert key_check() == (FAILURE, '[sod_trust] challenge_public_key_file '
                           '%s cannot be read: No such file or directory'
                           % pub)
    shown = sod_cli('trust', 'challenge-key',
                    '--nonce-key-file', str(key['nonce_key_file']))
    assert shown.returncode == 0, shown.stderr
    pub.write_text(shown.stdout)
    assert key_check() == (SUCCESS, None)


@pytest.mark.parametrize('module, prog, extra', [
    ('sod_nova.cmd.trust_monitor', 'sod-trust-monitor', ''),
    ('sod_nova.cmd.trust_agent', 'sod-trust-agent',
     '[trust]\nprivate_key_file = {tmp}/host.key\nbackend = hyperwall\n'),
    ('sod_nova.cmd.migration_manager', 'sod-migration-manager', ''),
])
def test_services_refuse_fake_transport_in_one_line(tmp_path, module, prog,
                                                    extra, sod_cli):
    config = write_config(tmp_path, extra.format(tmp=tmp_path))
    result = sod_cli(module=module, config=config)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert lines[-1].startswith(
        '%s: [DEFAULT] transport_url is fake://, in-memory' % prog), result.stderr
    assert 'Traceback' not in result.stderr


def _read_until(proc, wanted):
    """The first line of ``proc``'s output for which ``wanted(line)``."""
    for line in proc.stdout:
        if wanted(line):
            return line
    pytest.fail('%s exited: status %s' % (proc.args, proc.wait()))


def test_sighup_rereads_mutable_options_in_the_same_process(tmp_path, sod_cli):
    # oslo.log's debug option is mutable: after SIGHUP the running monitor
    # logs at DEBUG (its stale-check looping call says so every
    # stale_check_interval), in the same process, and SIGTERM still stops it
    # cleanly.
    # The monitor runs alone on the in-memory transport (the simulator's
    # lone_service): this is a test of the process, not of the bus.
    config = write_config(tmp_path)
    assert sod_cli('db', 'sync', config=config).returncode == 0
    debug = tmp_path / 'debug.conf'
    debug.write_text('[DEFAULT]\ndebug = false\n')
    proc = subprocess.Popen(
        [sys.executable, '-m', 'sod_nova.cloud.lone_service', 'sod-trust-monitor',
         '--config-file', str(config), '--config-file', str(debug)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        _read_until(proc, lambda line: 'trust monitor' in line
                    and 'started' in line)
        debug.write_text('[DEFAULT]\ndebug = true\n')
        proc.send_signal(signal.SIGHUP)
        _read_until(proc, lambda line: 'Option DEFAULT.debug changed' in line)
        line = _read_until(proc, lambda line: ' DEBUG ' in line)
        assert line.split()[2] == str(proc.pid), line
        assert proc.poll() is None
    finally:
        proc.send_signal(signal.SIGTERM)
        status = proc.wait(timeout=120)
    assert status == 0
