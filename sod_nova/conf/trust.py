"""[sod_trust] options: the Trust Monitor agent (TMc) and monitor (TMs).

The agent runs on every compute host and reports signed evidence; the
monitor verifies it and writes the host's trust row. Both read this group;
each option says which side uses it.
"""

import socket

from oslo_config import cfg

from sod_nova.conf import deprecation
from sod_nova.conf import types

trust_group = cfg.OptGroup(
    'sod_trust',
    title='Trust Monitor',
    help='Evidence reporting (agent, sod-trust-agent) and verification '
         '(monitor, sod-trust-monitor) of compute host trust.')

trust_opts = deprecation.from_group('trust', [
    types.FiniteFloatOpt(
        'evidence_max_age',
        default=10.0,
        min=0.1,
        max=86400.0,
        help="""
Seconds for which a host's verified evidence counts (the trust monitor's
option). The monitor writes into the host row the time until which it counts
(``valid_until``); the scheduler filter, the migration manager, the API and
the trait publisher only compare that time with the clock, so they need no
copy of this option. Past it, the host has no capabilities and the monitor
marks it ``unreachable``.

Related options:

* ``report_interval``: keep this several times larger, so that one lost
  report does not make a host unreachable.
"""),
    types.FiniteFloatOpt(
        'report_interval',
        default=2.0,
        min=0.05,
        max=3600.0,
        help="""
Agent: seconds between two evidence reports.

Related options:

* ``evidence_max_age``
"""),
    types.FiniteFloatOpt(
        'stale_check_interval',
        default=1.0,
        min=0.05,
        max=3600.0,
        help="""
Monitor: seconds between two scans for hosts whose evidence is older than
``evidence_max_age``. Bounds how late ``unreachable`` is noticed.
"""),
    types.FiniteFloatOpt(
        'nonce_max_age',
        default=30.0,
        min=0.1,
        max=86400.0,
        help="""
Monitor: seconds a challenge nonce stays valid. A report quoting an older
nonce is rejected, so evidence cannot be prepared in advance.

Related options:

* ``report_interval``: must be smaller, since the agent quotes the nonce it
  received after its previous report.
"""),
    cfg.IntOpt(
        'max_evidence_bytes',
        default=65536,
        min=1024,
        help="""
Monitor: largest evidence document accepted, in bytes. Larger reports are
rejected before their signature is checked.
"""),
    cfg.StrOpt(
        'monitor_topic',
        default='sod-trust-monitor',
        help="""
oslo.messaging topic the monitor listens on and agents report to. Give each
monitor of a scaled-out deployment its own topic and point the agents of its
hosts at it.
"""),
    cfg.StrOpt(
        'agent_topic',
        default='sod-trust-agent',
        help='oslo.messaging topic the agents listen on (one server per host) '
             'for challenges.'),
    cfg.StrOpt(
        'notification_topic',
        default='sod_notifications',
        help="""
Monitor: notification topic of the ``sod.host.trust_changed`` event
(payload: host, old_state, new_state, reason, architecture) that the
relocation engine consumes.
"""),
    cfg.StrOpt(
        'monitor_name',
        default=socket.gethostname(),
        sample_default='<hostname>',
        help="""
Monitor: this monitor's name, written in the ``monitor`` column of the host
rows it owns. The members of one monitor group (one ``monitor_topic``, the
same hosts, the reports shared among them) have one name; monitors that share
a database but serve different hosts (``monitor_hosts``,
``monitor_architectures``) need distinct names.
"""),
    cfg.ListOpt(
        'monitor_hosts',
        default=[],
        help="""
Monitor: the hosts this monitor serves. Empty: every enrolled host (subject to
``monitor_architectures``). Reports from other hosts are ignored.
"""),
    cfg.ListOpt(
        'monitor_architectures',
        default=[],
        help="""
Monitor: the architecture types (catalogue names) this monitor serves, e.g.
one monitor per architecture family as the paper proposes. Empty: all.
"""),
    cfg.StrOpt(
        'nonce_key_file',
        help="""
Monitor: file holding the monitor group's nonce key (at least 32 bytes as hex
digits, e.g. ``openssl rand -hex 32``; keep it mode 0600). Nonces carry their
issue time and a MAC under this key, so every monitor with the same key (and
``monitor_name`` and ``monitor_topic``) can check any report without
remembering nonces, and a restart loses nothing. An unreadable or short key
stops the monitor at start.

The group's challenge signing key is derived from it: agents verify every
challenge with its public half (``challenge_public_key_file``), printed by
``sod-nova trust challenge-key``.

Possible values:

* A path: shared by the monitors of one group. Required: a monitor without
  it stops at start.
"""),
    cfg.StrOpt(
        'challenge_public_key_file',
        help="""
Agent: file holding the public key(s) of the monitor group's challenge key
(one base64 line or PEM block each; several while the group's nonce key is
being rotated), as ``sod-nova trust challenge-key`` prints it on a monitor.
The agent takes a challenge's nonce only when one of these keys verifies the
challenge's signature, so that no one else on the message bus can give it a
nonce the monitor would reject (and so keep the host without fresh evidence).
Required: an agent without it, or with an unreadable file, stops at start.
"""),
    cfg.StrOpt(
        'reference_values_file',
        help="""
Monitor: YAML or JSON file of boot reference values per architecture:
``{ARCHITECTURE: {PCR index: sha256 hex}}``.

Possible values:

* Empty (default): the golden measured-boot log of the simulated backends.
* A path: only the architectures listed there can become trusted (fail
  closed for the others).
"""),
    cfg.StrOpt(
        'host',
        default=socket.gethostname(),
        sample_default='<hostname>',
        help="""
Agent: the compute host name it reports for (Nova's host name): 1 to 255
ASCII letters, digits and ``_ . : -`` (the agent refuses to start otherwise).
"""),
    cfg.StrOpt(
        'backend',
        default='simulated',
        help="""
Agent: evidence backend, a plugin of the ``sod_nova.trust.backends``
namespace.

Possible values:

* ``tpm``: quotes of the host's TPM 2.0 (``tpm_tcti``), its AK activated
  under the enrolled EK; needs ``pip install "sod-nova[tpm]"``.
* ``simulated-tpm``: a software event log and PCR bank (no TPM; for the
  embedded cloud and the simulator).
* ``hyperwall``: memory-protection violation counts (the paper's prototype).
* ``datasafe``: blocked tagged-data leaks and policy violations.
* ``simulated``: any catalogue architecture (see ``architecture``).
"""),
    cfg.StrOpt(
        'architecture',
        help="""
Agent: the catalogue architecture the ``simulated`` backend stands for
(required with that backend; ignored by the others).
"""),
    cfg.StrOpt(
        'private_key_file',
        help="""
Agent: PEM file of the host's Ed25519 attestation key. Created (mode 0600)
when missing; its public key is what the operator enrolls.
"""),
    cfg.StrOpt(
        'enrollment_token',
        secret=True,
        help="""
Agent: one-time enrollment token issued by ``sod-nova trust token create``.
When set, the agent enrolls its public key with it at start. Without a token
the key must have been enrolled by the operator (``sod-nova trust enroll``):
a host is never trusted on first use.
"""),
    cfg.StrOpt(
        'tpm_tcti',
        default='device:/dev/tpmrm0',
        help="""
Agent, ``tpm`` backend: the TPM's TCTI, as tpm2-tss names it.

Possible values:

* ``device:/dev/tpmrm0``: the kernel's resource manager (a server's TPM).
* ``swtpm:path=/run/swtpm/sock``: a software TPM (swtpm) on a Unix socket.
"""),
    cfg.IntOpt(
        'tpm_pcr',
        default=23,
        choices=[16, 23],
        help="""
Agent, ``tpm`` backend: the resettable PCR the agent measures into and
quotes. Reset at agent start, then extended with ``tpm_measured_files`` and
the runtime events; the monitor replays the log and compares the result with
``reference_values_file``.
"""),
    cfg.ListOpt(
        'tpm_measured_files',
        default=[],
        help="""
Agent, ``tpm`` backend: files measured (SHA-256) into ``tpm_pcr`` at start,
in order, e.g. the kernel, the initrd and the hypervisor's binaries. Their
replayed value is the reference the operator lists for the host's
architecture in ``reference_values_file``.
"""),
    cfg.StrOpt(
        'libvirt_uri',
        help="""
Agent: libvirt URI the agent reads the host's domain capabilities (SEV,
SEV-ES, SEV-SNP, TDX, SGX, TPM models) and running domains from, e.g.
``qemu:///system``; reported in the signed evidence. Empty (default): libvirt
is not read. Needs ``pip install "sod-nova[libvirt]"``.
"""),
    cfg.StrOpt(
        'libvirt_virt_type',
        default='kvm',
        choices=['kvm', 'qemu'],
        help='Agent: the virtualisation type whose domain capabilities are '
             'read (Nova\'s [libvirt] virt_type).'),
    cfg.StrOpt(
        'unknown_domains',
        default='report',
        choices=[('report', 'log a running domain Nova does not know'),
                 ('untrusted', 'and make its host untrusted')],
        help="""
Monitor: what a libvirt domain that Nova does not place on the host does
(needs the ``[nova]`` credentials, to list the host's instances). A domain
appears in libvirt a moment before Nova records its host during a live
migration, so ``untrusted`` suits hosts where nothing but Nova starts VMs.
"""),
])


def register_opts(conf):
    conf.register_group(trust_group)
    conf.register_opts(trust_opts, group=trust_group)


def list_opts():
    return {trust_group: trust_opts}
