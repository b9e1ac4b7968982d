"""Scenario files for ``sod-nova simulate``: parse and check before any cloud starts.

The whole file is checked up front (its JSON Schema, ``scenarios/scenario.schema.json``,
then what a schema cannot say), so a mistake is one line naming what and where,
never a failure half-way through a run. The format's design:
``doc/source/contributor/simulator.rst``.
"""

import dataclasses
import functools
import importlib.resources
import json
import logging
import os

import jsonschema

from sod_nova import exception
from sod_nova import hostname
from sod_nova import yamlfile
from sod_nova.policy import parse

SCENARIOS = 'sod_nova.cloud.scenarios'
#: The structure of a scenario file (events, keys, types), as a JSON Schema.
SCHEMA = 'scenario.schema.json'
#: The longest ``wait`` one event may ask for, in scenario seconds (a day of
#: moving-target periods is not a demo; a run must end in minutes).
MAX_WAIT_SECONDS = 3600
SUFFIX = '.yaml'
BUILTIN = 'paper.yaml'

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
    extra_specs: dict = dataclasses.field(default_factory=dict)  # the flavor's


@dataclasses.dataclass(frozen=True)
class Event:
    kind: str
    host: str = None  # a host name, resolved from host_of at run time if None
    host_of: str = None  # "the host VM x runs on now"
    vm: str = None
    security: dict = None
    architecture: str = None  # add_host only
    seconds: float = None  # wait, forge_challenge: scenario seconds that pass
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


def _where(path, source):
    """``vms[2].security`` from jsonschema's path ``['vms', 2, 'security']``;
    the file itself (``source``) where the path is empty."""
    where = ''
    for part in path:
        where += '[%d]' % part if isinstance(part, int) else (
            '.%s' % part if where else str(part))
    return where or source


def _schema_error(error, source):
    """The first structural error as a ScenarioError that names the field.

    A keyword about a key (an unknown one, a missing one) names the key;
    the schema's ``x-messages`` give the text where the default would be
    too vague.
    """
    path, keyword = list(error.absolute_path), error.validator
    allowed = list(error.schema.get('properties', ()))
    if keyword == 'additionalProperties':
        key = next(k for k in error.instance if k not in allowed)
        message = 'unknown key (one of: %(allowed)s)'
    elif keyword == 'required':
        key = next(k for k in error.validator_value if k not in error.instance)
        message = 'missing'
    elif keyword == 'dependentRequired':
        key, needs = next((k, v) for k, v in error.validator_value.items()
                          if k in error.instance)
        message = 'given without %s' % ', '.join(needs)
    else:
        key, message = None, {'type': 'must be a mapping'}.get(keyword, error.message)
    message = error.schema.get('x-messages', {}).get(keyword, message)
    where = _where(path, source)
    if key is not None:
        where = '%s.%s' % (where, key)
    _fail(where, message % {'allowed': ', '.join(allowed), 'value': error.instance})


@functools.cache
def validator():
    """The scenario schema's validator (read once, on first use)."""
    schema = json.loads(importlib.resources.files(SCENARIOS).joinpath(
        SCHEMA).read_text(encoding='utf-8'))
    return jsonschema.Draft202012Validator(schema)


def _check_structure(doc, source):
    # The first error in the schema's order: the order the file reads in,
    # a mapping's own keys before what is inside them.
    error = next(validator().iter_errors(doc), None)
    if error is not None:
        _schema_error(error, source)


def _host_name(where, value):
    """A host name under the rule of :mod:`sod_nova.hostname` (a name the
    evidence format refuses could never become trusted)."""
    try:
        return hostname.check(value.strip())
    except hostname.InvalidHostName as exc:
        _fail(where, str(exc))


def _plain(value):
    """True for a scalar, or a list of scalars: what a ``sod:`` value may be
    before it is ever turned into text."""
    scalar = (str, int, float)
    return isinstance(value, scalar) or (
        isinstance(value, list) and all(isinstance(v, scalar) for v in value))


def _security(where, value):
    """The ``sod:*`` metadata of a (structurally valid) ``security`` mapping.

    Out-of-range options, unknown properties and duplicates are format
    errors here; whether the cloud accepts the request is decided later.
    """
    for key in (parse.OPTIONS, parse.PROPERTIES, parse.MOVING_TARGET):
        if key in value and not _plain(value[key]):
            _fail('%s.%s' % (where, key), 'must be a value or a list of values')
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
        try:
            props = parse.parse_properties(value[parse.PROPERTIES], field)
        except parse.PolicyError as exc:
            _fail(field, exc.reason)
        metadata[parse.PREFIX + parse.PROPERTIES] = ','.join(p.name for p in props)
    if parse.PACKAGE in value:
        metadata[parse.PREFIX + parse.PACKAGE] = value[parse.PACKAGE].strip()
    if parse.MOVING_TARGET in value:
        field = '%s.%s' % (where, parse.MOVING_TARGET)
        try:
            seconds = parse.parse_moving_target(value[parse.MOVING_TARGET], field)
        except parse.PolicyError as exc:
            _fail(field, exc.reason)
        metadata[parse.PREFIX + parse.MOVING_TARGET] = str(seconds)
    return metadata


def _spec_value(where, value):
    """An extra spec's value as Nova keeps it (a string). YAML's booleans
    and integers are spelled as Nova reads them; a float is refused, since
    YAML would have changed it (``2.10`` is 2.1): quote it."""
    if isinstance(value, bool):
        return 'true' if value else 'false'
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return value
    _fail(where, '%r is not a string: quote it ("%s")' % (value, value))


def _nova_spec_validator():
    """Nova's own extra-spec validation (``validate(name, value)``), or
    None where the embedded cloud is not installed (the command says so)."""
    from sod_nova import cloud
    if cloud.missing():
        return None
    # Nova says at INFO which concurrency mode it chose: not on the one line
    # a bad file gets.
    announcer = logging.getLogger('nova.monkey_patch')
    level = announcer.level
    announcer.setLevel(logging.WARNING)
    try:    # before Nova's modules (they import oslo.messaging)
        from sod_nova.cloud import nova  # noqa: F401
    except RuntimeError:
        pass   # this process cannot run the cloud anyway; still validate
    finally:
        announcer.setLevel(level)
    from nova.api.validation.extra_specs import validators
    return validators.validate


def _extra_specs(where, value):
    """The flavor extra specs of a (structurally valid) ``extra_specs``
    mapping, validated as Nova's API validates a flavor's (2.86+)."""
    specs = {}
    validate = None
    for key, raw in value.items():
        field = '%s.%s' % (where, key)
        name = key.strip()
        if name.startswith(parse.PREFIX):
            _fail(field, "a VM's request goes in its security (instance "
                  "metadata), not in its flavor's extra specs")
        spec = _spec_value(field, raw)
        validate = validate or _nova_spec_validator() or (lambda n, v: None)
        try:
            validate(name, spec)
        except Exception as exc:   # Nova's ValidationError
            _fail(field, str(exc).replace('Validation failed; ', ''))
        specs[name] = spec
    return specs


def _within(where, count, limit, what):
    if count > limit:
        _fail(where, '%d %s, over the limit of %d a scenario may have' % (count, what, limit))


def _unique(where, names, name):
    if name in names:
        _fail(where, '%r is used twice' % name)
    names.add(name)


def _known(where, names, name, what):
    name = name.strip()
    if name not in names:
        _fail(where, '%r is not a %s of this scenario' % (name, what))
    return name


def _event(where, raw, host_names, vm_names, known_architecture):
    (kind, body), = raw.items()
    where = '%s.%s' % (where, kind)
    if kind == 'wait':
        return Event(kind, seconds=_seconds(where + '.seconds', body['seconds']),
                     raw=raw)
    if kind == 'add_host':
        host = _host(where, body, known_architecture)
        _unique(where + '.name', host_names, host.name)
        return Event(kind, host=host.name, architecture=host.architecture, raw=raw)
    if kind == 'change_security':
        vm = _known(where + '.vm', vm_names, body['vm'], 'VM')
        return Event(kind, vm=vm, raw=raw,
                     security=_security(where + '.security', body['security']))
    # A host event: on the host named, or on the host a VM runs on then;
    # forge_challenge lasts ``seconds``.
    seconds = (_seconds(where + '.seconds', body['seconds'])
               if 'seconds' in body else None)
    if 'host' in body:
        return Event(kind, host=_known(where + '.host', host_names, body['host'],
                                       'host'), seconds=seconds, raw=raw)
    return Event(kind, host_of=_known(where + '.host_of', vm_names,
                                      body['host_of'], 'VM'), seconds=seconds,
                 raw=raw)


def _seconds(where, value):
    if not 0 < value <= MAX_WAIT_SECONDS:  # NaN too: no comparison holds
        _fail(where, 'must be more than 0 and at most %d seconds' % MAX_WAIT_SECONDS)
    return float(value)


def _host(where, raw, known_architecture):
    name = _host_name(where + '.name', raw['name'])
    arch = raw['architecture'].strip()
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
        doc = yamlfile.load(text, source)
    except yamlfile.YAMLFileError as exc:
        raise ScenarioError(str(exc)) from None
    _check_structure(doc, source)
    raw_vms = doc.get('vms') or []
    raw_events = doc.get('events') or []
    added = sum(1 for raw in raw_events if 'add_host' in raw)
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
        name = raw['name'].strip()
        _unique(where + '.name', vm_names, name)
        security = (_security(where + '.security', raw['security'])
                    if raw.get('security') is not None else {})
        extra_specs = (_extra_specs(where + '.extra_specs', raw['extra_specs'])
                       if raw.get('extra_specs') else {})
        vms.append(VM(name, security, extra_specs))
    events = tuple(_event('events[%d]' % i, raw, host_names, vm_names, known_architecture)
                   for i, raw in enumerate(raw_events))
    name = doc.get('name')
    if name is not None and not isinstance(name, (str, int)):
        _fail('name', 'must be a string')
    return Scenario(str(name) if name is not None else source, tuple(hosts), tuple(vms),
                    events)


def packaged():
    """Names of the scenarios that come with sod-nova (``paper``,
    ``present-day``...), sorted."""
    return sorted(entry.name[:-len(SUFFIX)] for entry in
                  importlib.resources.files(SCENARIOS).iterdir()
                  if entry.name.endswith(SUFFIX))


def _packaged_file(name):
    """The packaged scenario file ``name`` (with or without ``.yaml``)
    stands for, or None."""
    stem = name[:-len(SUFFIX)] if name.endswith(SUFFIX) else name
    return stem + SUFFIX if stem in packaged() else None


def load_file(path, known_architecture):
    """Parse the scenario at ``path``: a file, else the name of a packaged
    scenario (``present-day``); None: the built-in paper scenario."""
    packaged_file = BUILTIN if path is None else (
        None if os.path.exists(path) else _packaged_file(path))
    if packaged_file is not None:
        text = importlib.resources.files(SCENARIOS).joinpath(
            packaged_file).read_text(encoding='utf-8')
        return load(text, known_architecture, packaged_file)
    try:
        with open(path, 'rb') as f:
            data = f.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise ScenarioError('%s: cannot read: %s (the scenarios that come with '
                            'sod-nova: %s)' % (path, exc.strerror,
                                               ', '.join(packaged()))) from None
    if len(data) > MAX_FILE_BYTES:
        raise ScenarioError('%s: larger than the limit of %d bytes a scenario file may have'
                            % (path, MAX_FILE_BYTES))
    try:
        text = yamlfile.decode(data, path)
    except yamlfile.YAMLFileError as exc:
        raise ScenarioError(str(exc)) from None
    return load(text, known_architecture, path)
