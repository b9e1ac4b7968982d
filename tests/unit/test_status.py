"""``sod-nova-status upgrade check`` (each check, passing and failing) and the
services' refusal of the in-memory ``fake://`` transport."""

import json
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
from sod_nova.trust import rpc

SUCCESS = upgradecheck.Code.SUCCESS
WARNING = upgradecheck.Code.WARNING
FAILURE = upgradecheck.Code.FAILURE
RABBIT = 'rabbit://sod:secret@controller:5672/'
#: A compute endpoint nothing listens on (port 1): Nova unreachable.
NO_NOVA = 'http://127.0.0.1:1/v2.1'
FLAVOR_CHECK = 'Flavors launch the guests their sod: requests need'

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


def make_conf(tmp_path, nova_text=NOVA_CONF, transport_url=RABBIT, sync=True):
    nova = tmp_path / 'nova.conf'
    nova.write_text(nova_text)
    conf = cfg.ConfigOpts()
    for module in sod_nova.conf._MODULES:
        module.register_opts(conf)
    rpc.register_transport_opts(conf)
    conf([], default_config_files=[])
    conf.set_override('connection', 'sqlite:///%s/sod.db' % tmp_path,
                      'sod_database')
    conf.set_override('nova_config_files', [str(nova)], 'sod_upgrade_check')
    if transport_url is not None:
        conf.set_override('transport_url', transport_url)
    if sync:
        db_migration.sync(conf)
    return conf


@pytest.fixture(autouse=True)
def _dispose():
    yield
    db_api.dispose()


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


def test_notifications_off_is_a_warning(tmp_path):
    conf = make_conf(tmp_path, NOVA_CONF.replace('driver = messagingv2', ''))
    conf.set_override('listen_notifications', False, 'sod_relocation')
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


# -- as an operator runs them ---------------------------------------------

def run(module, *args, timeout=120):
    return subprocess.run([sys.executable, '-m', module, *args],
                          capture_output=True, text=True, timeout=timeout)


def write_config(tmp_path, text=''):
    """sod-nova's configuration, its [nova] at a port nothing listens on."""
    path = tmp_path / 'sod.conf'
    path.write_text('[sod_database]\nconnection = sqlite:///%s/sod.db\n'
                    '[upgrade_check]\nnova_config_files = %s\n'
                    '[nova]\nauth_type = none\nendpoint_override = %s\n%s' % (
                        tmp_path, tmp_path / 'nova.conf', NO_NOVA, text))
    (tmp_path / 'nova.conf').write_text(NOVA_CONF)
    return path


def test_status_command_json_and_exit_codes(tmp_path):
    # Nova unreachable: the flavor check's warning (exit 1) with the reason;
    # passing against real Nova: tests/functional/test_api_servers.py.
    config = write_config(tmp_path, '[DEFAULT]\ntransport_url = %s\n' % RABBIT)
    before = run('sod_nova.cmd.status', '--config-file', str(config),
                 'upgrade', 'check', '--json')
    assert before.returncode == 2, before.stderr    # not synced yet
    checks = {c['check']: c['result']
              for c in json.loads(before.stdout)['checks']}
    assert checks.pop('sod-nova database at head') == FAILURE
    assert checks.pop(FLAVOR_CHECK) == WARNING
    assert set(checks.values()) == {SUCCESS}
    sync = run('sod_nova.cmd.manage', '--config-file', str(config), 'db', 'sync')
    assert sync.returncode == 0, sync.stderr
    after = run('sod_nova.cmd.status', '--config-file', str(config),
                'upgrade', 'check')
    assert after.returncode == 1, after.stdout
    assert "cannot read Nova's flavors to check their sod: requests" in \
        after.stdout
    assert 'Traceback' not in after.stdout + after.stderr


@pytest.mark.parametrize('module, prog, extra', [
    ('sod_nova.cmd.trust_monitor', 'sod-trust-monitor', ''),
    ('sod_nova.cmd.trust_agent', 'sod-trust-agent',
     '[trust]\nprivate_key_file = {tmp}/host.key\nbackend = hyperwall\n'),
    ('sod_nova.cmd.migration_manager', 'sod-migration-manager', ''),
])
def test_services_refuse_fake_transport_in_one_line(tmp_path, module, prog,
                                                    extra):
    config = write_config(tmp_path, extra.format(tmp=tmp_path))
    result = run(module, '--config-file', str(config))
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert lines[-1].startswith(
        '%s: [DEFAULT] transport_url is fake://, in-memory' % prog), result.stderr
    assert 'Traceback' not in result.stderr


def test_embedded_monitor_starts_on_fake_transport(tmp_path):
    config = write_config(tmp_path, '[DEFAULT]\nembedded = true\n')
    assert run('sod_nova.cmd.manage', '--config-file', str(config),
               'db', 'sync').returncode == 0
    proc = subprocess.Popen(
        [sys.executable, '-m', 'sod_nova.cmd.trust_monitor', '--config-file',
         str(config)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True)
    try:
        for line in proc.stdout:         # oslo.log writes to stderr
            if 'trust monitor' in line and 'started' in line:
                break
        else:
            pytest.fail('the embedded monitor exited: status %s'
                        % proc.wait())
    finally:
        # It may not have its SIGTERM handler yet: any way out is fine here.
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=120)


def _read_until(proc, wanted):
    """The first line of ``proc``'s output for which ``wanted(line)``."""
    for line in proc.stdout:
        if wanted(line):
            return line
    pytest.fail('%s exited: status %s' % (proc.args, proc.wait()))


def test_sighup_rereads_mutable_options_in_the_same_process(tmp_path):
    # oslo.log's debug option is mutable: after SIGHUP the running monitor
    # logs at DEBUG (its stale-check looping call says so every
    # stale_check_interval), in the same process, and SIGTERM still stops it
    # cleanly.
    config = write_config(tmp_path, '[DEFAULT]\nembedded = true\n')
    assert run('sod_nova.cmd.manage', '--config-file', str(config),
               'db', 'sync').returncode == 0
    debug = tmp_path / 'debug.conf'
    debug.write_text('[DEFAULT]\ndebug = false\n')
    proc = subprocess.Popen(
        [sys.executable, '-m', 'sod_nova.cmd.trust_monitor', '--config-file',
         str(config), '--config-file', str(debug)],
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
