"""The agent reads a real libvirtd with QEMU; the monitor checks what it says.

libvirtd (Debian's libvirt-daemon, QEMU without KVM) is installed by the test
suite (tox's commands_pre) and started here without systemd, as RECIPES.md
describes: virtlogd and libvirtd daemonised, the ``libvirt-qemu`` user
created if missing. A daemon already running is used and left running; one
started here is stopped after the module. Without libvirtd or root these
tests fail saying so.
"""

import os
import shutil
import signal
import subprocess
import time
import uuid

import pytest

from sod_nova import trust
from sod_nova.catalog import Catalog
from sod_nova.cloud import fleet as fleet_mod
from sod_nova.trust import platform

URI = 'qemu:///system'
#: Bounds a daemon start or a domain start that will never succeed; each
#: wait ends as soon as the daemon answers or the domain runs.
START_TIMEOUT = 300.0


def _alive(pidfile):
    try:
        with open(pidfile) as f:
            os.kill(int(f.read().strip()), 0)
        return True
    except (OSError, ValueError):
        return False


def _start_daemon(name, pidfile):
    if _alive(pidfile):
        return None
    binary = shutil.which(name) or '/usr/sbin/%s' % name
    if not os.path.exists(binary):
        pytest.fail('%s is not installed (Debian libvirt-daemon; the test '
                    'suite installs it with tools/ensure-debs)' % name)
    subprocess.run(['setsid', binary, '-d'], check=True, cwd='/')
    return pidfile


@pytest.fixture(scope='module')
def libvirtd():
    import libvirt
    if os.geteuid() != 0:
        pytest.fail('starting libvirtd with QEMU needs root')
    if subprocess.run(['id', 'libvirt-qemu'], capture_output=True).returncode:
        subprocess.run(['useradd', '-r', '-M', '-s', '/usr/sbin/nologin',
                        'libvirt-qemu'], check=True)
    for path in ('/run/libvirt', '/var/log/libvirt'):
        os.makedirs(path, exist_ok=True)
    started = [p for p in (_start_daemon('virtlogd', '/run/virtlogd.pid'),
                           _start_daemon('libvirtd', '/run/libvirtd.pid')) if p]
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        try:
            libvirt.open(URI).close()
            break
        except libvirt.libvirtError as exc:
            if time.monotonic() > deadline:
                pytest.fail('libvirtd does not answer at %s: %s' % (URI, exc))
            time.sleep(0.05)
    yield URI
    for pidfile in reversed(started):
        with open(pidfile) as f:
            os.kill(int(f.read().strip()), signal.SIGTERM)


@pytest.fixture(scope='module')
def domain(libvirtd):
    """A running QEMU domain (TCG, no disk: it idles in the firmware)."""
    import libvirt
    conn = libvirt.open(libvirtd)
    dom_uuid = str(uuid.uuid4())
    xml = ("<domain type='qemu'><name>sod-test-%s</name><uuid>%s</uuid>"
           "<memory unit='MiB'>32</memory><vcpu>1</vcpu>"
           "<os><type arch='x86_64' machine='pc'>hvm</type></os>"
           "<devices><emulator>/usr/bin/qemu-system-x86_64</emulator>"
           "</devices></domain>" % (dom_uuid[:8], dom_uuid))
    dom = conn.createXML(xml, 0)
    yield dom_uuid
    dom.destroy()
    conn.close()


@pytest.fixture
def reader(libvirtd):
    reader = platform.LibvirtPlatform(libvirtd, virt_type='qemu')
    yield reader
    reader.close()


def test_agent_reads_capabilities_and_running_domains(reader, domain):
    report = reader.read()
    platform.check_shape(report)
    # This machine: QEMU without KVM, no confidential computing.
    assert 'sev-snp' not in report['features'] and 'tdx' not in report['features']
    assert report['tpm_models'] and 'tpm' in report['features']
    assert domain in report['domains']


@pytest.fixture
def conf(trust_config):
    trust_config.config(group='sod_trust', unknown_domains='untrusted')
    return trust_config.conf


def test_round_trip_sev_snp_claim_on_a_host_without_it(conf, reader, domain, wait_state):
    nova_view = {'sev1': [domain], 'hw1': []}
    fleet = fleet_mod.Fleet(conf, catalog=Catalog.load(),
                            nova_domains=nova_view.__getitem__)
    try:
        fleet.add_host('sev1', 'AMD-SEV-SNP', platform=reader)
        fleet.add_host('hw1', 'HyperWall', platform=reader)
        fleet.start()
        r = wait_state('sev1', trust.UNTRUSTED)
        assert r.reason == 'host claims AMD-SEV-SNP but libvirt reports no SEV-SNP'
        # HyperWall needs no hypervisor feature, but Nova places no
        # instance on hw1 while its libvirt runs one.
        r = wait_state('hw1', trust.UNTRUSTED)
        assert r.reason == 'libvirt runs 1 domain Nova does not know: %s' % domain
    finally:
        fleet.cleanup()
