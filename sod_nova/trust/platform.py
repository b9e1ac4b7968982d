"""What the host's hypervisor can enforce and what it runs, from libvirt.

The agent reports libvirt's domain capabilities and running domains in the
``platform`` field of its evidence; the monitor checks the claimed
architecture and Nova's view of the host against them. The field's format:
``doc/source/contributor/architecture-notes.rst``.
"""

import dataclasses
import re
import xml.etree.ElementTree as ElementTree

from oslo_log import log as logging

from sod_nova import exception
from sod_nova import trust

LOG = logging.getLogger(__name__)

INSTALL_HINT = ('reading libvirt needs libvirt-python: install Debian '
                'libvirt-dev and pkg-config, then pip install "sod-nova[libvirt]"')

#: Catalogue architecture (lower case) -> (feature it needs, how it reads).
REQUIRED_FEATURE = {
    'amd-sev-snp': ('sev-snp', 'SEV-SNP'),
    'intel-tdx': ('tdx', 'TDX'),
    'intel-sgx': ('sgx', 'SGX'),
    'vtpm-measured-boot': ('tpm', 'a TPM device model'),
}
FEATURES = ('sev', 'sev-es', 'sev-snp', 'tdx', 'sgx', 'tpm')
_UUID = re.compile(r'^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\Z')
_MODEL = re.compile(r'^[a-z0-9-]{1,32}\Z')
#: Domains one report may list: their UUIDs must fit in max_evidence_bytes.
MAX_DOMAINS = 1024


class PlatformError(exception.SodNovaException, ValueError):
    """Capabilities that cannot be read; ``str()`` says why."""


def _supported(element):
    return element is not None and element.get('supported') == 'yes'


def _values(element, enum):
    if element is None:
        return []
    return sorted({v.text.strip() for v in element.findall(
        "enum[@name='%s']/value" % enum) if v.text})


def parse_domain_capabilities(text):
    """``{'features': [...], 'tpm_models': [...]}`` of a domain-capabilities
    XML document (libvirt's formatdomaincaps).

    SEV-ES counts when ``<sev>`` allows ES guests (``maxESGuests``); SEV-SNP
    and TDX when ``<launchSecurity>`` lists their ``sectype`` (libvirt 10.5
    on; older libvirt cannot report them, so it reports neither).
    """
    try:
        root = ElementTree.fromstring(text)
    except ElementTree.ParseError as exc:
        raise PlatformError('domain capabilities are not XML: %s' % exc) from None
    if root.tag != 'domainCapabilities':
        raise PlatformError('not a domainCapabilities document (root <%s>)'
                            % root.tag)
    features = set()
    sev = root.find('features/sev')
    sectypes = set(_values(root.find('features/launchSecurity'), 'sectype'))
    if _supported(sev) or 'sev' in sectypes:
        features.add('sev')
        es = sev.findtext('maxESGuests') if sev is not None else None
        if es and es.strip().isdigit() and int(es) > 0:
            features.add('sev-es')
    if 'sev-snp' in sectypes:
        features.add('sev-snp')
    if 'tdx' in sectypes or _supported(root.find('features/tdx')):
        features.add('tdx')
    if _supported(root.find('features/sgx')):
        features.add('sgx')
    tpm = root.find('devices/tpm')
    models = _values(tpm, 'model') if _supported(tpm) else []
    if models:
        features.add('tpm')
    return {'features': sorted(features), 'tpm_models': models}


class LibvirtPlatform:
    """The agent's reader of its host's libvirt (``[sod_trust] libvirt_uri``)."""

    def __init__(self, uri, virt_type='kvm', arch=None):
        try:
            import libvirt
        except ImportError as exc:
            raise RuntimeError('%s (%s)' % (INSTALL_HINT, exc)) from None
        self._libvirt = libvirt
        self.uri, self.virt_type, self.arch = uri, virt_type, arch
        self._conn = None
        self._capabilities = None

    def _connection(self):
        if self._conn is None:
            try:
                self._conn = self._libvirt.open(self.uri)
            except self._libvirt.libvirtError as exc:
                raise RuntimeError('cannot connect to libvirt at %s: %s'
                                   % (self.uri, exc)) from None
        return self._conn

    def capabilities(self):
        """The parsed domain capabilities (read once: they change with the
        host's firmware and software, i.e. at a restart)."""
        if self._capabilities is None:
            xml = self._connection().getDomainCapabilities(
                None, self.arch, None, self.virt_type, 0)
            self._capabilities = parse_domain_capabilities(xml)
        return self._capabilities

    def domains(self):
        """UUIDs of the running domains."""
        conn = self._connection()
        flags = self._libvirt.VIR_CONNECT_LIST_DOMAINS_ACTIVE
        return sorted(d.UUIDString() for d in conn.listAllDomains(flags))

    def read(self):
        """The ``platform`` field of a report."""
        try:
            return dict(self.capabilities(), domains=self.domains())
        except self._libvirt.libvirtError:
            self.close()    # a restarted libvirtd: connect again next time
            raise

    def close(self):
        if self._conn is not None:
            try:
                self._conn.close()
            except self._libvirt.libvirtError:
                pass
            self._conn = None


def check_shape(field):
    """Raise :class:`PlatformError` unless ``field`` is a platform report."""
    if not isinstance(field, dict) or set(field) != {'features', 'tpm_models',
                                                     'domains'}:
        raise PlatformError('malformed platform report: fields domains, '
                            'features, tpm_models')
    if not (isinstance(field['features'], list)
            and all(f in FEATURES for f in field['features'])):
        raise PlatformError('malformed platform report: features')
    if not (isinstance(field['tpm_models'], list) and all(
            isinstance(m, str) and _MODEL.match(m) for m in field['tpm_models'])):
        raise PlatformError('malformed platform report: tpm_models')
    domains = field['domains']
    if not (isinstance(domains, list) and len(domains) <= MAX_DOMAINS and all(
            isinstance(d, str) and _UUID.match(d) for d in domains)):
        raise PlatformError('malformed platform report: domains')


def architecture_problem(architecture, field):
    """Why libvirt's report contradicts the claimed ``architecture``, or
    None. Architectures that need no hypervisor feature pass."""
    try:
        check_shape(field)
    except PlatformError as exc:
        return str(exc)
    needed = REQUIRED_FEATURE.get(architecture.lower())
    if needed and needed[0] not in field['features']:
        return ('host claims %s but libvirt reports no %s'
                % (architecture, needed[1]))
    return None


@dataclasses.dataclass
class DomainCheck:
    """The monitor's comparison of reported domains with Nova's view.

    ``nova_domains(host)`` returns the UUIDs of the instances Nova places on
    ``host``; it is asked only when a report names a domain not seen in
    Nova's answer before. ``untrusted``: whether an unknown domain makes the
    host untrusted (``[sod_trust] unknown_domains = untrusted``) or is only
    reported.
    """

    nova_domains: object
    untrusted: bool = False

    def __post_init__(self):
        self._known = {}

    def unknown(self, host, domains):
        known = self._known.get(host, set())
        if set(domains) <= known:
            return []
        try:
            known = set(self.nova_domains(host))
        except Exception as exc:
            LOG.warning('%(host)s: cannot ask Nova for its instances: '
                        '%(exc)s; domains not checked',
                        {'host': host, 'exc': exc})
            return []
        self._known[host] = known
        return sorted(set(domains) - known)

    def apply(self, verdict):
        """``verdict``, made untrusted when the option says so and the
        report names domains Nova does not know."""
        ev = verdict.evidence
        if not verdict.trusted or ev is None or not ev.platform:
            return verdict
        unknown = self.unknown(verdict.host, ev.platform['domains'])
        if not unknown:
            return verdict
        reason = 'libvirt runs %d domain%s Nova does not know: %s' % (
            len(unknown), '' if len(unknown) == 1 else 's', ', '.join(unknown))
        LOG.warning('%(host)s: %(reason)s', {'host': verdict.host,
                                              'reason': reason})
        if not self.untrusted:
            return verdict
        return dataclasses.replace(verdict, state=trust.UNTRUSTED, reason=reason)
