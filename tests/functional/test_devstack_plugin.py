"""The DevStack plugin (devstack/plugin.sh, devstack/settings), run for real.

Each test builds a DevStack-like tree in a temp dir (DEST, /etc/nova with a
nova.conf as DevStack writes it, a bin dir of stub executables) and runs the
real plugin under bash through ``devstack_harness/run.sh``, which sources a
stand-in for DevStack's helper functions (``devstack_harness/functions.sh``:
INI editing that really edits the files, service lists, run_process, ...)
and calls the phases as stack.sh / unstack.sh / clean.sh do, with errexit,
nounset and an ERR trap. Then it checks the files the plugin left and the
calls it made (installs, processes, database, openstack client).
"""

import configparser
import json
import os
from pathlib import Path
import pwd
import shutil
import socket
import stat
import subprocess
import sys

from nova.conf import scheduler as nova_scheduler_conf
from oslo_config import cfg
import pytest
import yaml

from sod_nova.trust import challenges
from sod_nova.trust import keys
from sod_nova.trust import nonces

HERE = Path(__file__).resolve().parent
HARNESS = HERE / 'devstack_harness'
REPO = HERE.parents[1]
PACKAGES_YAML = REPO / 'sod_nova' / 'catalog' / 'data' / 'packages.yaml'

FILTER_CLASS = 'sod_nova.scheduler.filters.SecurityOnDemandFilter'
FILTER_NAME = 'SecurityOnDemandFilter'
ALL_FILTERS = 'nova.scheduler.filters.all_filters'
DEVSTACK_FILTERS = ['ComputeFilter', 'ComputeCapabilitiesFilter', 'ImagePropertiesFilter',
                    'ServerGroupAntiAffinityFilter', 'ServerGroupAffinityFilter',
                    'SameHostFilter', 'DifferentHostFilter']
NOVA_DEFAULT_FILTERS = ['ComputeFilter', 'ComputeCapabilitiesFilter', 'ImagePropertiesFilter',
                        'ServerGroupAntiAffinityFilter', 'ServerGroupAffinityFilter']

ALL_IN_ONE = ('key,mysql,rabbit,placement-api,g-api,n-api,n-api-meta,n-cond,n-sch,'
              'n-novnc,n-cpu,q-svc,q-agt,etcd3')
CONTROLLER = 'key,mysql,rabbit,placement-api,g-api,n-api,n-cond,n-sch,q-svc'
COMPUTE = 'n-cpu,placement-client,q-agt'

RABBIT_URL = 'rabbit://stackrabbit:rabbitsecret@10.0.0.5:5672/'
SOD_DB_URL = 'mysql+pymysql://root:dbsecret@10.0.0.5/sod_nova?charset=utf8'
SERVICE_SCRIPTS = {'sod-agent': 'sod-trust-agent',
                   'sod-monitor': 'sod-trust-monitor',
                   'sod-manager': 'sod-migration-manager'}

# nova.conf as DevStack's lib/nova leaves it before the plugin's post-config
DEVSTACK_NOVA_CONF = """\
[DEFAULT]
debug = True
transport_url = %(rabbit)s

[filter_scheduler]
enabled_filters = %(filters)s
track_instance_changes = False

[notifications]
notification_format = unversioned

[oslo_messaging_notifications]
driver = messagingv2
transport_url = %(rabbit)s
""" % {'rabbit': RABBIT_URL, 'filters': ','.join(DEVSTACK_FILTERS)}


def package_names(path=PACKAGES_YAML):
    with open(path, encoding='utf-8') as f:
        return [p['name'] for p in yaml.safe_load(f)['packages']]


def read_ini(path):
    """{section: {option: [values]}} as oslo.config reads the file."""
    sections = {}
    cfg.ConfigParser(str(path), sections).parse()
    return sections


class Node:
    """One DevStack node in a temp dir, running the real plugin."""

    def __init__(self, root, services, disabled='', nova_conf=DEVSTACK_NOVA_CONF,
                 plugin_repo=REPO, **env):
        self.root = Path(root)
        self.state = self.root / 'harness'
        self.log = self.state / 'calls.log'
        self.bin = self.root / 'bin'
        self.dest = self.root / 'opt' / 'stack'
        self.nova_conf = self.root / 'etc' / 'nova' / 'nova.conf'
        self.sod_conf_dir = self.root / 'etc' / 'sod_nova'
        self.sod_conf = self.sod_conf_dir / 'sod_nova.conf'
        self.sod_data_dir = self.dest / 'data' / 'sod_nova'
        self.agent_key = self.sod_data_dir / 'agent_key.pem'
        for d in (self.state, self.bin, self.dest, self.nova_conf.parent):
            d.mkdir(parents=True, exist_ok=True)
        (self.dest / 'sod-nova').symlink_to(plugin_repo)
        self.log.touch()
        self.nova_conf.write_text(nova_conf)
        self._make_bin()
        self.env = {
            # the host
            'PATH': '%s:/usr/local/bin:/usr/bin:/bin' % self.bin,
            'HOME': str(self.root),
            'LC_ALL': 'C.UTF-8',
            # the harness
            'SOD_HARNESS_DIR': str(self.state),
            'SOD_HARNESS_LOG': str(self.log),
            'SOD_HARNESS_BIN': str(self.bin),
            'SOD_HARNESS_PLUGIN_DIR': str(self.dest / 'sod-nova'),
            # what stackrc, local.conf and lib/* define before plugins run
            'DEST': str(self.dest),
            'DATA_DIR': str(self.dest / 'data'),
            'STACK_USER': _whoami(),
            'ENABLED_SERVICES': services,
            'DISABLED_SERVICES': disabled,
            'ADMIN_PASSWORD': 'adminsecret',
            'SERVICE_HOST': '10.0.0.5',
            'SERVICE_PROTOCOL': 'http',
            'KEYSTONE_SERVICE_URI': 'http://10.0.0.5/identity',
            'REGION_NAME': 'RegionOne',
            'ENABLE_DEBUG_LOG_LEVEL': 'True',
            'RABBIT_USERID': 'stackrabbit',
            'RABBIT_PASSWORD': 'rabbitsecret',
            'RABBIT_HOST': '10.0.0.5',
            'DATABASE_TYPE': 'mysql',
            'DATABASE_USER': 'root',
            'DATABASE_PASSWORD': 'dbsecret',
            'DATABASE_HOST': '10.0.0.5',
            'NOVA_CONF_DIR': str(self.nova_conf.parent),
            'NOVA_CONF': str(self.nova_conf),
            'NOVA_CPU_CONF': str(self.nova_conf.parent / 'nova-cpu.conf'),
            # /etc/sod_nova is outside the temp dir: point the plugin here
            'SOD_NOVA_CONF_DIR': str(self.sod_conf_dir),
        }
        self.env.update(env)

    def _make_bin(self):
        stubs = HARNESS / 'bin'
        for name in ('sod-nova', 'openstack', 'mysql'):
            (self.bin / name).symlink_to(stubs / name)
        for script in SERVICE_SCRIPTS.values():
            (self.bin / script).symlink_to(stubs / 'service')
        # the interpreter that has sod_nova installed (a venv's python must
        # not be symlinked: it would lose its venv)
        python = self.bin / 'python3'
        python.write_text('#!/bin/sh\nexec %s "$@"\n' % sys.executable)
        python.chmod(0o755)

    def run(self, *args, check=True):
        proc = subprocess.run(
            ['bash', str(HARNESS / 'run.sh'), *args], env=self.env,
            capture_output=True, text=True, timeout=60)
        if check and proc.returncode != 0:
            pytest.fail('run.sh %s failed (exit %d)\n--- stdout\n%s\n--- stderr (tail)\n%s' % (
                ' '.join(args), proc.returncode, proc.stdout, proc.stderr[-6000:]))
        return proc

    def calls(self, name=None):
        """[(phase, name, [args])] in order, optionally only one name."""
        out = []
        for line in self.log.read_text().splitlines():
            phase, call, *args = line.split('\t')
            if name is None or call == name:
                out.append((phase, call, args))
        return out

    def started(self):
        return {args[0]: args[1] for _, _, args in self.calls('run_process')}

    def running(self):
        d = self.state / 'running'
        return sorted(p.name for p in d.iterdir()) if d.exists() else []

    def flavors(self):
        """{name: {key: value}} as the openstack stub holds them."""
        d = self.state / 'flavors'
        if not d.exists():
            return {}
        return {p.name: dict(line.split('=', 1) for line in p.read_text().splitlines())
                for p in d.iterdir()}

    def sod_nova_commands(self):
        """The sod-nova subcommands run, e.g. ['db sync', 'trust enroll']."""
        out = []
        for _, _, args in self.calls('sod-nova'):
            words = [a for i, a in enumerate(args)
                     if a != '--config-file' and (i == 0 or args[i - 1] != '--config-file')]
            out.append(' '.join(words[:2]))
        return out

    def databases(self):
        d = self.state / 'databases'
        return sorted(p.name for p in d.iterdir()) if d.exists() else []


def _whoami():
    return pwd.getpwuid(os.getuid()).pw_name


@pytest.fixture(scope='module')
def aio(tmp_path_factory):
    """An all-in-one node after a full stack.sh (shared: only look at it)."""
    node = Node(tmp_path_factory.mktemp('aio'), ALL_IN_ONE)
    node.run('stack')
    return node


@pytest.fixture
def own_aio(tmp_path):
    """An all-in-one node after a full stack.sh, for a test to change."""
    node = Node(tmp_path, ALL_IN_ONE)
    node.run('stack')
    return node


def _only(values):
    assert len(values) == 1, values
    return values[0]


# --- stack on an all-in-one node ---------------------------------------------

def test_install_phase_installs_the_package(aio):
    phase, _, args = _only(aio.calls('setup_develop'))
    assert phase == 'stack install'
    assert args == [str(aio.dest / 'sod-nova')]
    assert [a for _, _, a in aio.calls('define_plugin')][0] == ['sod-nova']


def test_nova_conf_gets_filter_database_and_notifications(aio):
    nova = read_ini(aio.nova_conf)
    sched = nova['filter_scheduler']
    assert sched['available_filters'] == [ALL_FILTERS, FILTER_CLASS]
    assert _only(sched['enabled_filters']).split(',') == DEVSTACK_FILTERS + [FILTER_NAME]
    assert sched['track_instance_changes'] == ['False']     # untouched
    # the filter in nova-scheduler reads the SoD database from nova.conf
    assert nova['sod_database']['connection'] == [SOD_DB_URL]
    assert nova['notifications']['notify_on_state_change'] == ['vm_and_task_state']
    assert nova['notifications']['notification_format'] == ['both']
    assert nova['oslo_messaging_notifications']['driver'] == ['messagingv2']
    assert nova['DEFAULT']['transport_url'] == [RABBIT_URL]  # untouched


def test_nova_reads_the_result_as_intended(aio):
    """Nova's (and oslo.messaging's) own option definitions parse the result."""
    out = subprocess.run([sys.executable, '-c', NOVA_READS, str(aio.nova_conf)],
                         capture_output=True, text=True, check=True, timeout=60).stdout
    assert json.loads(out) == {
        'available_filters': [ALL_FILTERS, FILTER_CLASS],
        'enabled_filters': DEVSTACK_FILTERS + [FILTER_NAME],
        'notify_on_state_change': 'vm_and_task_state',
        'notification_format': 'both',
        'driver': ['messagingv2']}


NOVA_READS = """
import json
import sys

from nova.conf import notifications
from nova.conf import scheduler
from oslo_config import cfg
from oslo_messaging import opts

conf = cfg.ConfigOpts()
scheduler.register_opts(conf)
notifications.register_opts(conf)
for group, group_opts in opts.list_opts():
    if group == 'oslo_messaging_notifications':
        conf.register_opts(group_opts, group=group)
conf([], default_config_files=[sys.argv[1]])
print(json.dumps({
    'available_filters': conf.filter_scheduler.available_filters,
    'enabled_filters': conf.filter_scheduler.enabled_filters,
    'notify_on_state_change': conf.notifications.notify_on_state_change,
    'notification_format': conf.notifications.notification_format,
    'driver': conf.oslo_messaging_notifications.driver}))
"""


def test_sod_nova_conf(aio):
    sod = read_ini(aio.sod_conf)
    assert sod['DEFAULT']['transport_url'] == [RABBIT_URL]
    assert sod['oslo_messaging_notifications']['transport_url'] == [RABBIT_URL]
    assert sod['sod_database'] == {'connection': [SOD_DB_URL]}
    assert sod['sod_trust'] == {
        'host': [socket.gethostname()], 'backend': ['simulated'], 'architecture': ['TPM'],
        'private_key_file': [str(aio.agent_key)],
        'nonce_key_file': [str(aio.sod_data_dir / 'nonce.key')],
        'challenge_public_key_file': [str(aio.sod_data_dir / 'challenge.pub')]}
    assert sod['nova'] == {
        'auth_type': ['password'], 'auth_url': ['http://10.0.0.5/identity'],
        'username': ['admin'], 'password': ['adminsecret'], 'project_name': ['admin'],
        'user_domain_name': ['Default'], 'project_domain_name': ['Default'],
        'region_name': ['RegionOne'], 'interface': ['public']}
    assert 'sod_catalog' not in sod        # shipped catalogue by default


def test_agent_verifies_challenges_with_the_monitor_groups_key(aio):
    nonce_key = aio.sod_data_dir / 'nonce.key'
    assert stat.S_IMODE(nonce_key.stat().st_mode) == 0o600
    public = (aio.sod_data_dir / 'challenge.pub').read_text().strip()
    assert public == challenges.public_key_text(nonces.load_key(str(nonce_key)))


CONF_OPTIONS = """
import json
import sys

from oslo_config import generator

result = []
for namespaces in sys.argv[1:]:
    known = {}
    for _, groups in generator._list_opts(namespaces.split(',')):
        for group, opts in groups:
            name = getattr(group, 'name', group) or 'DEFAULT'
            known.setdefault(name, set()).update(o.dest for o in opts)
    result.append({g: sorted(o) for g, o in known.items()})
print(json.dumps(result))
"""


def registered_options(*namespace_sets):
    """For each set of namespaces, {group: {option}} oslo-config-generator knows."""
    out = subprocess.run([sys.executable, '-c', CONF_OPTIONS, *namespace_sets],
                         capture_output=True, text=True, check=True, timeout=60).stdout
    return [{g: set(o) for g, o in known.items()} for known in json.loads(out)]


def unknown_options(path, known):
    return sorted('[%s] %s' % (section, key)
                  for section, opts in read_ini(path).items()
                  for key in opts
                  if key.replace('-', '_') not in known.get(section, ()))


def test_every_option_written_is_one_the_code_declares(aio):
    """No option the services would silently ignore (a typo, a renamed group)."""
    known, known_nova = registered_options('sod_nova,oslo.log,oslo.messaging',
                                           'nova.conf,sod_nova,oslo.log,oslo.messaging')
    assert unknown_options(aio.sod_conf, known) == []
    assert unknown_options(aio.nova_conf, known_nova) == []


def test_service_scripts_and_commands_exist(aio):
    """What the plugin runs is what setup.cfg installs."""
    setup = configparser.ConfigParser()
    setup.read(REPO / 'setup.cfg')
    entry_points = setup['entry_points']
    scripts = {line.split('=')[0].strip()
               for line in entry_points['console_scripts'].splitlines() if line.strip()}
    started = {Path(cmd.split()[0]).name for cmd in aio.started().values()}
    assert started == set(SERVICE_SCRIPTS.values())
    assert started | {'sod-nova'} <= scripts
    subcommands = {line.split('=')[0].strip().replace('_', ' ')
                   for line in entry_points['sod_nova.cli'].splitlines() if line.strip()}
    assert set(aio.sod_nova_commands()) == {'db sync', 'trust enroll'}
    assert set(aio.sod_nova_commands()) <= subcommands


def test_database_created_and_synced_after_config(aio):
    phase, _, args = _only(aio.calls('recreate_database'))
    assert (phase, args) == ('stack post-config', ['sod_nova'])
    phase, _, args = _only([c for c in aio.calls('sod-nova') if 'sync' in c[2]])
    assert phase == 'stack post-config'
    assert args == ['--config-file', str(aio.sod_conf), 'db', 'sync']
    # created, synced, then used
    assert aio.sod_nova_commands() == ['db sync', 'trust enroll']
    order = [c for _, c, _ in aio.calls() if c in ('recreate_database', 'sod-nova')]
    assert order == ['recreate_database', 'sod-nova', 'sod-nova']
    assert aio.databases() == ['sod_nova']


def test_agent_key_created_and_enrolled(aio):
    assert stat.S_IMODE(aio.agent_key.stat().st_mode) == 0o600
    public = keys.public_key_text(keys.load_or_create_private_key(str(aio.agent_key)))
    phase, _, args = _only([c for c in aio.calls('sod-nova') if 'enroll' in c[2]])
    assert phase == 'stack post-config'
    assert args == ['--config-file', str(aio.sod_conf), 'trust', 'enroll',
                    socket.gethostname(), '--architecture', 'TPM', '--public-key', '-',
                    'stdin=' + public]


def test_all_three_services_started_in_extra(aio):
    calls = aio.calls('run_process')
    assert {phase for phase, _, _ in calls} == {'stack extra'}
    assert aio.started() == {
        service: '%s/%s --config-file %s' % (aio.bin, script, aio.sod_conf)
        for service, script in SERVICE_SCRIPTS.items()}
    # the monitor is up before the agent reports to it
    assert [a[0] for _, _, a in calls] == ['sod-monitor', 'sod-manager', 'sod-agent']
    assert aio.running() == sorted(SERVICE_SCRIPTS)


def test_one_flavor_per_security_package(aio):
    names = package_names()
    assert names      # the catalogue ships packages
    assert aio.flavors() == {
        'sod.' + name: {'ram': '512', 'disk': '1', 'vcpus': '1', 'sod:package': name}
        for name in names}
    creates = [(p, a) for p, _, a in aio.calls('openstack') if 'create' in a]
    assert len(creates) == len(names)
    assert {p for p, _ in creates} == {'stack extra'}


def test_phases_are_idempotent(own_aio):
    aio = own_aio
    key = aio.agent_key.read_bytes()
    aio.run('phase', 'stack', 'post-config')
    aio.run('phase', 'stack', 'post-config')
    aio.run('phase', 'stack', 'extra')
    # the agent keeps its identity, enrolled again in the recreated database
    assert aio.agent_key.read_bytes() == key
    enrolls = [c[2][-1] for c in aio.calls('sod-nova') if 'enroll' in c[2]]
    assert len(enrolls) == 3 and len(set(enrolls)) == 1
    nova = read_ini(aio.nova_conf)
    sched = nova['filter_scheduler']
    assert sched['available_filters'] == [ALL_FILTERS, FILTER_CLASS]
    enabled = _only(sched['enabled_filters']).split(',')
    assert enabled == DEVSTACK_FILTERS + [FILTER_NAME]
    assert enabled.count(FILTER_NAME) == 1
    assert nova['sod_database']['connection'] == [SOD_DB_URL]
    assert nova['notifications']['notify_on_state_change'] == ['vm_and_task_state']
    # flavors are not created twice (the stub refuses a duplicate like Nova)
    creates = [a for _, _, a in aio.calls('openstack') if 'create' in a]
    assert len(creates) == len(package_names())
    assert len(aio.flavors()) == len(package_names())


# --- unstack and clean -------------------------------------------------------

def test_unstack_stops_every_service(own_aio):
    aio = own_aio
    aio.run('unstack')
    stopped = aio.calls('stop_process')
    assert sorted(a[0] for _, _, a in stopped) == sorted(SERVICE_SCRIPTS)
    assert {p for p, _, _ in stopped} == {'unstack'}
    assert aio.running() == []
    assert aio.sod_conf.exists()        # unstack keeps the configuration


def test_clean_removes_config_keys_database_and_flavors(own_aio):
    aio = own_aio
    aio.run('unstack')
    aio.run('clean')
    assert not aio.sod_conf_dir.exists()
    assert not aio.sod_data_dir.exists()
    assert aio.databases() == []
    drop = _only([a for p, _, a in aio.calls('mysql') if p == 'clean'])
    assert '-e' in drop and 'DROP DATABASE IF EXISTS sod_nova;' in drop
    assert aio.flavors() == {}
    # and a second clean (nothing left) still succeeds
    aio.run('clean')


# --- node roles --------------------------------------------------------------

def test_horizon_node_gets_the_dashboard_plugin(tmp_path):
    # What DevStack's configure_horizon leaves before the plugin's post-config.
    local = tmp_path / 'opt' / 'stack' / 'horizon' / 'openstack_dashboard' / 'local'
    local.mkdir(parents=True)
    settings = local / 'local_settings.py'
    # ... with the setting an older plugin wrote, which is not read any more.
    settings.write_text('DEBUG = True\n'
                        "SOD_NOVA_CONFIG_FILES = ['/etc/x.conf']  # sod-nova\n")
    node = Node(tmp_path, ALL_IN_ONE + ',horizon')
    node.run('stack')

    installed = [(p, a) for p, _, a in node.calls('setup_develop')]
    assert installed == [('stack install', [str(node.dest / 'sod-nova')]),
                         ('stack install', [str(node.dest / 'sod-nova' / 'sod-horizon')])]
    shipped = sorted(p.name for p in (
        REPO / 'sod-horizon' / 'sod_horizon' / 'enabled').glob('_[0-9]*.py'))
    assert len(shipped) == 3
    assert sorted(p.name for p in (local / 'enabled').iterdir()) == shipped
    # The plugin finds sod-nova-api in the catalog: Horizon gets no setting.
    assert settings.read_text() == 'DEBUG = True\n'

    node.run('phase', 'stack', 'post-config')
    assert settings.read_text() == 'DEBUG = True\n'

    node.run('clean')
    assert list((local / 'enabled').iterdir()) == []
    assert settings.read_text() == 'DEBUG = True\n'


def test_nodes_without_horizon_leave_it_alone(aio):
    assert [a for _, _, a in aio.calls('setup_develop')] == [[str(aio.dest / 'sod-nova')]]
    assert not (aio.dest / 'horizon').exists()


def test_compute_only_node_runs_just_the_agent(tmp_path):
    nova_conf = DEVSTACK_NOVA_CONF.replace('debug = True', 'debug = True\nhost = cmp1')
    node = Node(tmp_path, COMPUTE, nova_conf=nova_conf)
    node.run('stack')
    assert node.started() == {'sod-agent': '%s/sod-trust-agent --config-file %s' % (
        node.bin, node.sod_conf)}
    assert node.calls('recreate_database') == []
    # enrolls its key in the controller's database, under Nova's host name
    assert node.sod_nova_commands() == ['trust enroll']
    assert _only(node.calls('sod-nova'))[2][4] == 'cmp1'
    assert node.calls('openstack') == []
    sod = read_ini(node.sod_conf)
    assert 'nova' not in sod            # no admin password on computes
    assert sod['sod_trust']['host'] == ['cmp1']
    assert sod['DEFAULT']['transport_url'] == [RABBIT_URL]
    nova = read_ini(node.nova_conf)
    assert nova['notifications']['notify_on_state_change'] == ['vm_and_task_state']
    assert 'sod_database' not in nova   # no scheduler here
    node.run('unstack')
    assert [a for _, _, a in node.calls('stop_process')] == [['sod-agent']]


def test_compute_without_database_prints_how_to_enroll(tmp_path):
    node = Node(tmp_path, COMPUTE, DATABASE_TYPE='')
    proc = node.run('stack')
    assert node.calls('sod-nova') == []
    assert 'sod_database' not in read_ini(node.sod_conf)
    assert 'trust enroll %s --architecture TPM --public-key -' % socket.gethostname() \
        in proc.stdout
    assert list(node.started()) == ['sod-agent']


def test_auto_enroll_can_be_turned_off(tmp_path):
    node = Node(tmp_path, ALL_IN_ONE, SOD_NOVA_AUTO_ENROLL='False')
    node.run('stack')
    assert node.sod_nova_commands() == ['db sync']
    assert node.agent_key.exists()      # the key the operator will enroll


def test_controller_without_compute_runs_monitor_and_manager(tmp_path):
    node = Node(tmp_path, CONTROLLER)
    node.run('stack')
    assert sorted(node.started()) == ['sod-manager', 'sod-monitor']
    assert node.sod_nova_commands() == ['db sync']
    # the monitor's group key only: no agent here
    assert read_ini(node.sod_conf)['sod_trust'] == {
        'nonce_key_file': [str(node.sod_data_dir / 'nonce.key')]}
    assert len(node.flavors()) == len(package_names())


def test_user_disabled_services_stay_off(tmp_path):
    # local.conf: disable_service sod-manager sod-monitor (DevStack records it
    # in DISABLED_SERVICES, which enable_service in our settings respects)
    node = Node(tmp_path, ALL_IN_ONE, disabled='sod-manager,sod-monitor')
    node.run('stack')
    assert sorted(node.started()) == ['sod-agent']
    assert node.calls('openstack') == []        # flavors are the controller's job


def test_plugin_does_nothing_without_nova(tmp_path):
    node = Node(tmp_path, 'key,mysql,rabbit')
    before = node.nova_conf.read_text()
    node.run('stack')
    node.run('unstack')
    node.run('clean')
    assert node.nova_conf.read_text() == before
    assert not node.sod_conf.exists()
    names = {c for _, c, _ in node.calls()}
    assert names <= {'define_plugin', 'run_phase'}, names


@pytest.mark.parametrize('backend, expected', [
    ('tpm', 'TPM'), ('hyperwall', 'HyperWall'), ('datasafe', 'DataSafe')])
def test_trust_backend_from_local_conf(tmp_path, backend, expected):
    node = Node(tmp_path, COMPUTE, SOD_NOVA_TRUST_BACKEND=backend)
    node.run('stack')
    trust = read_ini(node.sod_conf)['sod_trust']
    assert (trust['backend'], trust['architecture']) == ([backend], [expected])
    enroll = _only(node.calls('sod-nova'))[2]
    assert enroll[enroll.index('--architecture') + 1] == expected


def test_simulated_architecture_and_host_from_local_conf(tmp_path):
    node = Node(tmp_path, COMPUTE, SOD_NOVA_TRUST_ARCHITECTURE='DataSafe',
                SOD_NOVA_AGENT_HOST='node-7')
    node.run('stack')
    trust = read_ini(node.sod_conf)['sod_trust']
    assert (trust['backend'], trust['architecture'], trust['host']) == (
        ['simulated'], ['DataSafe'], ['node-7'])


# --- nova.conf variants ------------------------------------------------------

def test_existing_values_are_kept_and_cell_confs_updated(tmp_path):
    nova_conf = ('[filter_scheduler]\navailable_filters = my.filters.Custom\n'
                 '[notifications]\nnotification_format = versioned\n')
    node = Node(tmp_path, ALL_IN_ONE, nova_conf=nova_conf)
    cell = node.nova_conf.parent / 'nova_cell1.conf'
    cell.write_text('[DEFAULT]\ntransport_url = %snova_cell1\n' % RABBIT_URL)
    node.run('stack')
    sched = read_ini(node.nova_conf)['filter_scheduler']
    assert sched['available_filters'] == ['my.filters.Custom', ALL_FILTERS, FILTER_CLASS]
    # no enabled_filters: Nova's defaults, plus ours
    assert _only(sched['enabled_filters']).split(',') == NOVA_DEFAULT_FILTERS + [FILTER_NAME]
    notif = read_ini(node.nova_conf)['notifications']
    assert notif['notification_format'] == ['versioned']   # already enough
    cell_ini = read_ini(cell)
    assert cell_ini['notifications']['notify_on_state_change'] == ['vm_and_task_state']
    assert cell_ini['oslo_messaging_notifications']['driver'] == ['messagingv2']
    assert cell_ini['DEFAULT']['transport_url'] == [RABBIT_URL + 'nova_cell1']


def test_nova_defaults_match_novas_own():
    """The fallback list in settings is Nova's default enabled_filters."""
    default = next(o.default for o in nova_scheduler_conf.filter_scheduler_opts
                   if o.name == 'enabled_filters')
    assert list(default) == NOVA_DEFAULT_FILTERS


# --- the packages come from the catalogue, not from the plugin ---------------

def test_flavors_follow_an_operator_packages_file(tmp_path):
    custom = tmp_path / 'packages.yaml'
    custom.write_text('version: 1\npackages:\n'
                      '  - name: gold\n    options: [1, 2, 3]\n'
                      '  - name: records\n    options: [1, 5, 6, 7]\n')
    node = Node(tmp_path / 'node', CONTROLLER, SOD_NOVA_PACKAGES_FILE=str(custom))
    node.run('stack')
    assert sorted(node.flavors()) == ['sod.gold', 'sod.records']
    assert read_ini(node.sod_conf)['sod_catalog'] == {'packages_file': [str(custom)]}
    # nova-api's sod: validators and the filter use the same packages
    assert read_ini(node.nova_conf)['sod_catalog'] == {'packages_file': [str(custom)]}


def test_malformed_packages_file_fails_the_stack(tmp_path):
    bad = tmp_path / 'packages.yaml'
    bad.write_text('version: 1\npackages:\n  - name: broken\n    options: [9]\n')
    node = Node(tmp_path / 'node', CONTROLLER, SOD_NOVA_PACKAGES_FILE=str(bad))
    proc = node.run('stack', check=False)
    assert proc.returncode != 0
    assert "failed in phase 'stack extra'" in proc.stderr
    assert node.flavors() == {}


# --- the harness catches a broken plugin -------------------------------------

BREAKAGES = {
    'failing command': ('function configure_nova_for_sod_nova {\n',
                        'function configure_nova_for_sod_nova {\n    false\n'),
    'unset variable': ('function start_sod_nova {\n',
                       'function start_sod_nova {\n    echo "$SOD_NOVA_NO_SUCH_SETTING"\n'),
    'flavor created again on re-stack': (
        'if ! openstack --os-cloud devstack-admin flavor show "$flavor" >/dev/null 2>&1; then',
        'if true; then'),
    'unset variable in unstack': ('function stop_sod_nova {\n',
                                  'function stop_sod_nova {\n    echo "$2"\n'),
    'misnamed service script': ('/sod-trust-monitor $args', '/sod-trust-moniter $args'),
    'db sync before config': ('        configure_sod_nova\n        configure_nova_for_sod_nova\n'
                              '        init_sod_nova\n',
                              '        init_sod_nova\n        configure_sod_nova\n'
                              '        configure_nova_for_sod_nova\n'),
}


@pytest.mark.parametrize('breakage', sorted(BREAKAGES))
def test_harness_fails_on_a_broken_plugin(tmp_path, breakage):
    old, new = BREAKAGES[breakage]
    repo = tmp_path / 'repo'
    (repo / 'devstack').mkdir(parents=True)
    shutil.copy(REPO / 'setup.cfg', repo / 'setup.cfg')
    shutil.copy(REPO / 'devstack' / 'settings', repo / 'devstack' / 'settings')
    plugin = (REPO / 'devstack' / 'plugin.sh').read_text()
    assert old in plugin, 'breakage %r no longer applies to plugin.sh' % breakage
    (repo / 'devstack' / 'plugin.sh').write_text(plugin.replace(old, new, 1))
    node = Node(tmp_path / 'node', ALL_IN_ONE, plugin_repo=repo)
    results = []
    for run in (['stack'], ['phase', 'stack', 'extra'], ['unstack']):
        results.append(node.run(*run, check=False).returncode)
        if results[-1] != 0:
            break
    assert results[-1] != 0, results


# --- the stand-in's INI editing matches DevStack's ---------------------------

def test_ini_functions_behave_like_devstacks(tmp_path):
    ini = tmp_path / 'x.conf'
    script = r"""
set -o errexit -o nounset
source "$HARNESS/functions.sh"
f=$1
iniset $f DEFAULT a 1                   # creates the file and the section
iniset $f DEFAULT a 2                   # replaces in place
iniset $f sec b 'x y = z'               # keeps spaces and '=' in values
iniset_multiline $f sec m v1 v2 v3
iniset $f DEFAULT c 3                   # goes right under the header
echo "get=$(iniget $f DEFAULT a)"
echo "multi=$(iniget_multiline $f sec m)"
echo "missing=[$(iniget $f sec nope)]"
iniadd $f sec m v4
inicomment $f DEFAULT c
if ini_has_option $f DEFAULT c; then echo has-c; else echo no-c; fi
iniuncomment $f DEFAULT c
inidelete $f sec b
iniset_multiline $f other m w1 w2       # new section at the end
"""
    env = {'PATH': os.environ['PATH'], 'HARNESS': str(HARNESS),
           'SOD_HARNESS_LOG': str(tmp_path / 'log')}
    out = subprocess.run(['bash', '-c', script, 'bash', str(ini)], env=env,
                         capture_output=True, text=True, check=True).stdout
    assert out.splitlines() == ['get=2', 'multi=v1 v2 v3', 'missing=[]', 'no-c']
    assert ini.read_text() == (
        '\n[DEFAULT]\nc = 3\na = 2\n'
        '\n[sec]\nm = v1\nm = v2\nm = v3\nm = v4\n'
        '\n[other]\nm = w1\nm = w2\n')


def test_sod_api_is_opt_in_configured_registered_and_started(tmp_path):
    node = Node(tmp_path, ALL_IN_ONE + ',sod-api')
    (node.bin / 'sod-nova-api').symlink_to(HARNESS / 'bin' / 'service')
    node.run('stack')
    conf = read_ini(node.sod_conf)
    assert conf['sod_api']['auth_strategy'] == ['keystone']
    assert conf['nova']['auth_type'] == ['password']    # reads server hosts
    assert node.started()['sod-api'] == (
        '%s/sod-nova-api --port 8790 -- --config-file %s'
        % (node.bin, node.sod_conf))
    assert [a for _, _, a in node.calls('create_service_user')] == [
        ['sod-nova', 'admin']]
    [service] = [a for _, _, a in node.calls('get_or_create_service')]
    assert service[:2] == ['sod-nova', 'security-on-demand']
    assert [a for _, _, a in node.calls('get_or_create_endpoint')] == [
        ['sod-nova', 'RegionOne', 'http://10.0.0.5:8790']]
    node.run('unstack')
    assert 'sod-api' not in node.running()


def test_sod_api_stays_off_unless_enabled(aio):
    assert 'sod-api' not in aio.started()
    assert 'sod_api' not in read_ini(aio.sod_conf)
