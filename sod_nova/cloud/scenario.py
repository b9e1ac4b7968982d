"""Scenario files for ``sod-nova simulate``: parse and check before any cloud starts.

A scenario (see the contract in the README) names hosts with their
architectures, VMs with their security requests and a list of events. The
whole file is checked up front so that a mistake is one line naming what and
where (``vms[2].security.options: 9 is not an option (1-7)``) instead of a
failure half-way through a run.

A ``wait: {seconds: S}`` event lets S seconds of scenario time pass, so
that a moving-target period (``sod:moving_target``) elapses or a silent
host's evidence ages; the embedded cloud compresses that time as it
compresses the rest (:meth:`~sod_nova.cloud.embedded.EmbeddedCloud.pass_time`).

Two kinds of problems are kept apart on purpose. A file that does not follow
the format is refused (exit 2). A VM request that is well-formed but that the
cloud refuses (option 4, a package this cloud does not offer) is the cloud's
decision: that VM is reported ``REJECTED`` with the reason and the run goes on,
as Nova would refuse that one boot and serve the rest.
"""

import dataclasses
import importlib.resources

import yaml

from sod_nova import exception
from sod_nova import hostname
from sod_nova.policy import parse

#: Events and the key each one names (SCENARIOS contract, plus ``add_host``).
HOST_EVENTS = ('attack', 'recover', 'silence', 'resume', 'forge', 'replay')
VM_EVENTS = ('change_security',)
EVENTS = HOST_EVENTS + VM_EVENTS + ('add_host', 'wait')
#: The longest ``wait`` one event may ask for, in scenario seconds (a day of
#: moving-target periods is not a demo; a run must end in minutes).
MAX_WAIT_SECONDS = 3600
SECURITY_KEYS = (parse.OPTIONS, parse.PROPERTIES, parse.PACKAGE, parse.MOVING_TARGET)
BUILTIN = 'paper.yaml'
SCENARIOS = 'sod_nova.cloud.scenarios'

#: Size limits of a scenario, checked before any service starts. They bound
#: what one embedded cloud runs well on a 2-core machine (every host is a
#: nova-compute service and a trust agent in this process; every VM a real
#: boot through Nova), and keep a mistaken or hostile file from taking the
#: machine's memory. Hosts count those added by ``add_host`` events too.
MAX_FILE_BYTES = 256 * 1024
MAX_HOSTS = 32
MAX_VMS = 200
MAX_EVENTS = 500


class ScenarioError(exception.SodNovaException, ValueError):
    """The file does not follow the scenario format; the message says where."""


@dataclasses.dataclass(frozen=True)
class Host:
    name: str
    architecture: str


@dataclasses.dataclass(frozen=True)
class VM:
    name: str
    security: dict  # sod:* metadata, {} for no request


@dataclasses.dataclass(frozen=True)
class Event:
    kind: str
    host: str = None  # a host name, resolved from host_of at run time if None
    host_of: str = None  # "the host VM x runs on now"
    vm: str = None
    security: dict = None
    architecture: str = None  # add_host only
    seconds: float = None  # wait only: scenario seconds that pass
    raw: dict = None  # the event as written, echoed in the result

    def target_host(self, placement):
        """The host this event acts on, given ``{vm: host}`` right now."""
        return self.host if self.host is not None else placement.get(self.host_of)


@dataclasses.dataclass(frozen=True)
class Scenario:
    name: str
    hosts: tuple
    vms: tuple
    events: tuple


def _fail(where, message):
    raise ScenarioError('%s: %s' % (where, message))


def _mapping(where, value, allowed, required=()):
    if not isinstance(value, dict):
        _fail(where, 'must be a mapping')
    for key in value:
        if key not in allowed:
            _fail('%s.%s' % (where, key),
                  'unknown key (one of: %s)' % ', '.join(allowed))
    for key in required:
        if key not in value:
            _fail('%s.%s' % (where, key), 'missing')
    return value


def _name(where, value):
    if not isinstance(value, str) or not value.strip():
        _fail(where, 'must be a non-empty string')
    return value.strip()


def _host_name(where, value):
    """A host name under the rule of :mod:`sod_nova.hostname` (a name the
    evidence format refuses could never become trusted)."""
    try:
        return hostname.check(_name(where, value))
    except hostname.InvalidHostName as exc:
        _fail(where, str(exc))


def _security(where, value):
    """Check the format of a ``security`` mapping; return ``sod:*`` metadata.

    Out-of-range options, unknown properties and duplicates are format
    errors here; whether the cloud accepts the request is decided later.
    """
    value = _mapping(where, value, SECURITY_KEYS)
    if not value:
        _fail(where, 'empty: give options and/or package')
    metadata = {}
    if parse.OPTIONS in value:
        field = '%s.%s' % (where, parse.OPTIONS)
        try:
            parse.parse_options(value[parse.OPTIONS], field)
        except parse.PolicyError as exc:
            if not exc.refused:  # option 4 is the cloud's to refuse: REJECTED
                _fail(field, exc.reason)
        options = value[parse.OPTIONS]
        metadata[parse.PREFIX + parse.OPTIONS] = ','.join(
            str(i).strip() for i in (options if isinstance(options, list)
                                     else str(options).split(',')))
    if parse.PROPERTIES in value:
        field = '%s.%s' % (where, parse.PROPERTIES)
        if parse.OPTIONS not in value:
            _fail(field, 'given without options')
        try:
            props = parse.parse_properties(value[parse.PROPERTIES], field)
        except parse.PolicyError as exc:
            _fail(field, exc.reason)
        metadata[parse.PREFIX + parse.PROPERTIES] = ','.join(p.name for p in props)
    if parse.PACKAGE in value:
        metadata[parse.PREFIX + parse.PACKAGE] = _name(
            '%s.%s' % (where, parse.PACKAGE), value[parse.PACKAGE])
    if parse.MOVING_TARGET in value:
        field = '%s.%s' % (where, parse.MOVING_TARGET)
        try:
            seconds = parse.parse_moving_target(value[parse.MOVING_TARGET], field)
        except parse.PolicyError as exc:
            _fail(field, exc.reason)
        metadata[parse.PREFIX + parse.MOVING_TARGET] = str(seconds)
    return metadata


def _within(where, count, limit, what):
    if count > limit:
        _fail(where, '%d %s, over the limit of %d a scenario may have' % (count, what, limit))


def _unique(where, names, name):
    if name in names:
        _fail(where, '%r is used twice' % name)
    names.add(name)


def _event(where, raw, host_names, vm_names, known_architecture):
    if not isinstance(raw, dict) or len(raw) != 1:
        _fail(where, 'must be a mapping with exactly one event (%s)' % ', '.join(EVENTS))
    kind, body = next(iter(raw.items()))
    if kind not in EVENTS:
        _fail('%s.%s' % (where, kind), 'unknown event (one of: %s)' % ', '.join(EVENTS))
    where = '%s.%s' % (where, kind)
    if kind in HOST_EVENTS:
        body = _mapping(where, body, ('host', 'host_of'))
        if len(body) != 1:
            _fail(where, 'give exactly one of host, host_of')
        if 'host' in body:
            host = _name(where + '.host', body['host'])
            if host not in host_names:
                _fail(where + '.host', '%r is not a host of this scenario' % host)
            return Event(kind, host=host, raw=raw)
        vm = _name(where + '.host_of', body['host_of'])
        if vm not in vm_names:
            _fail(where + '.host_of', '%r is not a VM of this scenario' % vm)
        return Event(kind, host_of=vm, raw=raw)
    if kind == 'wait':
        body = _mapping(where, body, ('seconds',), required=('seconds',))
        return Event(kind, seconds=_seconds(where + '.seconds', body['seconds']),
                     raw=raw)
    if kind == 'add_host':
        host = _host(where, body, known_architecture)
        _unique(where + '.name', host_names, host.name)
        return Event(kind, host=host.name, architecture=host.architecture, raw=raw)
    body = _mapping(where, body, ('vm', 'security'), required=('vm', 'security'))
    vm = _name(where + '.vm', body['vm'])
    if vm not in vm_names:
        _fail(where + '.vm', '%r is not a VM of this scenario' % vm)
    return Event(kind, vm=vm, security=_security(where + '.security', body['security']),
                 raw=raw)


def _seconds(where, value):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        _fail(where, '%r is not a number of seconds' % (value,))
    if not 0 < value <= MAX_WAIT_SECONDS:
        _fail(where, 'must be more than 0 and at most %d seconds' % MAX_WAIT_SECONDS)
    return float(value)


def _host(where, raw, known_architecture):
    raw = _mapping(where, raw, ('name', 'architecture'), required=('name', 'architecture'))
    name = _host_name(where + '.name', raw['name'])
    arch = _name(where + '.architecture', raw['architecture'])
    canonical = known_architecture(arch)
    if canonical is None:
        _fail(where + '.architecture', '%r is not in the catalogue' % arch)
    return Host(name, canonical)


def load(text, known_architecture, source='<scenario>'):
    """Parse scenario YAML ``text``.

    ``known_architecture(name)`` returns the catalogue's spelling of an
    architecture name, or None when the catalogue has no such row.
    """
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, 'problem_mark', None)
        where = '%s:%d' % (source, mark.line + 1) if mark else source
        raise ScenarioError('%s: not valid YAML: %s' % (
            where, getattr(exc, 'problem', None) or exc)) from None
    doc = _mapping(source, doc, ('name', 'hosts', 'vms', 'events'), required=('hosts',))
    if not isinstance(doc['hosts'], list) or not doc['hosts']:
        _fail('hosts', 'must be a non-empty list')
    raw_vms = doc.get('vms') or []
    if not isinstance(raw_vms, list):
        _fail('vms', 'must be a list')
    raw_events = doc.get('events') or []
    if not isinstance(raw_events, list):
        _fail('events', 'must be a list')
    added = sum(1 for raw in raw_events if isinstance(raw, dict) and 'add_host' in raw)
    _within('hosts', len(doc['hosts']) + added, MAX_HOSTS, 'hosts (with add_host events)')
    _within('vms', len(raw_vms), MAX_VMS, 'VMs')
    _within('events', len(raw_events), MAX_EVENTS, 'events')
    host_names, hosts = set(), []
    for i, raw in enumerate(doc['hosts']):
        host = _host('hosts[%d]' % i, raw, known_architecture)
        _unique('hosts[%d].name' % i, host_names, host.name)
        hosts.append(host)
    vm_names, vms = set(), []
    for i, raw in enumerate(raw_vms):
        where = 'vms[%d]' % i
        raw = _mapping(where, raw, ('name', 'security'), required=('name',))
        name = _name(where + '.name', raw['name'])
        _unique(where + '.name', vm_names, name)
        security = (_security(where + '.security', raw['security'])
                    if raw.get('security') is not None else {})
        vms.append(VM(name, security))
    events = tuple(_event('events[%d]' % i, raw, host_names, vm_names, known_architecture)
                   for i, raw in enumerate(raw_events))
    name = doc.get('name')
    return Scenario(str(name) if name is not None else source, tuple(hosts), tuple(vms),
                    events)


def load_file(path, known_architecture):
    """Parse the scenario at ``path`` (None: the built-in paper scenario)."""
    if path is None:
        text = importlib.resources.files(SCENARIOS).joinpath(BUILTIN).read_text(
            encoding='utf-8')
        return load(text, known_architecture, BUILTIN)
    try:
        with open(path, 'rb') as f:
            data = f.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise ScenarioError('%s: cannot read: %s' % (path, exc.strerror)) from None
    if len(data) > MAX_FILE_BYTES:
        raise ScenarioError('%s: larger than the limit of %d bytes a scenario file may have'
                            % (path, MAX_FILE_BYTES))
    try:
        text = data.decode('utf-8')
    except UnicodeDecodeError:
        raise ScenarioError('%s: not a UTF-8 text file' % path) from None
    return load(text, known_architecture, path)
