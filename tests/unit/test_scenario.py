"""Scenario files: the format is checked whole, errors say what and where."""

import jsonschema
import pytest

from sod_nova.catalog import Catalog
from sod_nova.cloud import scenario

CATALOG = Catalog.load()


def known(name):
    arch = CATALOG.get(name)
    return arch.name if arch else None


def load(text):
    return scenario.load(text, known, 'test.yaml')


HOSTS = 'hosts:\n  - {name: hw1, architecture: hyperwall}\n  - {name: t1, architecture: TPM}\n'


def test_builtin_paper_scenario():
    s = scenario.load_file(None, known)
    assert s.name == 'paper'
    assert {h.architecture for h in s.hosts} == {'HyperWall', 'TPM', 'DataSafe'}
    vms = {vm.name: vm.security for vm in s.vms}
    assert vms['vm-a'] == {'sod:options': '1', 'sod:properties': 'C,I'}
    assert vms['vm-b'] == {'sod:options': '1,2', 'sod:properties': 'C,I'}
    assert vms['medical'] == {'sod:package': 'medical-records'}
    assert vms['plain'] == {}
    kinds = [e.kind for e in s.events]
    for kind in ('attack', 'recover', 'change_security', 'silence', 'resume',
                 'forge', 'replay', 'forge_challenge'):
        assert kind in kinds


def test_full_example_of_the_contract():
    s = load(HOSTS + """
vms:
  - name: vm-a
    security: {options: [1], properties: [C, I]}
  - name: rec
    security: {package: medical-records}
  - name: plain
events:
  - {attack: {host: hw1}}
  - {change_security: {vm: vm-a, security: {options: [1, 2], properties: [C]}}}
  - {silence: {host_of: rec}}
  - {add_host: {name: hw2, architecture: HyperWall}}
  - {recover: {host: hw2}}
""")
    assert s.hosts[0] == scenario.Host('hw1', 'HyperWall')
    assert s.events[0].target_host({}) == 'hw1'
    assert s.events[1].security == {'sod:options': '1,2', 'sod:properties': 'C'}
    assert s.events[2].target_host({'rec': 't1'}) == 't1'
    assert s.events[3].architecture == 'HyperWall'
    assert s.events[0].raw == {'attack': {'host': 'hw1'}}


def test_wait_lets_scenario_time_pass():
    s = load(HOSTS + 'vms:\n  - {name: a, security: {options: [1], moving_target: 60}}\n'
                     'events:\n  - {wait: {seconds: 90}}\n  - {wait: {seconds: 0.5}}\n')
    assert s.vms[0].security['sod:moving_target'] == '60'
    assert [(e.kind, e.seconds) for e in s.events] == [('wait', 90.0), ('wait', 0.5)]
    assert s.events[0].target_host({'a': 'hw1'}) is None   # acts on no host
    assert s.events[0].raw == {'wait': {'seconds': 90}}


def test_forge_challenge_names_a_host_and_lasts_scenario_seconds():
    s = load(HOSTS + 'vms:\n  - {name: a}\nevents:\n'
             '  - {forge_challenge: {host: hw1, seconds: 30}}\n'
             '  - {forge_challenge: {host_of: a, seconds: 2.5}}\n')
    first, second = s.events
    assert (first.kind, first.host, first.seconds) == ('forge_challenge', 'hw1', 30.0)
    assert (second.host_of, second.seconds) == ('a', 2.5)


@pytest.mark.parametrize('body, message', [
    ('{host: hw1}', 'events[0].forge_challenge.seconds: missing'),
    ('{seconds: 3}', 'events[0].forge_challenge: give exactly one of host, host_of, '
                     'and seconds'),
    ('{host: hw1, host_of: a, seconds: 3}',
     'events[0].forge_challenge: give exactly one of host, host_of, and seconds'),
    ('{host: hw1, seconds: 0}', 'events[0].forge_challenge.seconds: must be more than 0'),
    ('{host: hw1, seconds: .nan}', 'events[0].forge_challenge.seconds: must be more than 0'),
    ('{host: nope, seconds: 3}', "events[0].forge_challenge.host: 'nope' is not a host"),
])
def test_forge_challenge_errors_say_what_and_where(body, message):
    with pytest.raises(scenario.ScenarioError) as exc:
        load(HOSTS + 'vms:\n  - {name: a}\nevents:\n  - {forge_challenge: %s}\n' % body)
    assert message in str(exc.value)


def test_extra_specs_are_the_flavor_the_vm_boots_with():
    """As Nova's flavor API keeps them: strings; YAML booleans and integers
    spelled as Nova reads them; checked by Nova's own validators."""
    s = load(HOSTS + """
vms:
  - name: cvm
    security: {options: [1, 2], properties: [C, I]}
    extra_specs: {"hw:mem_encryption": true, "hw:mem_encryption_model": amd-sev-snp}
  - name: measured
    extra_specs: {"hw:tpm_version": "2.0", "hw:tpm_model": tpm-crb, "hw:cpu_cores": 1}
  - {name: plain, extra_specs: null}
""")
    specs = {vm.name: vm.extra_specs for vm in s.vms}
    assert specs == {
        'cvm': {'hw:mem_encryption': 'true', 'hw:mem_encryption_model': 'amd-sev-snp'},
        'measured': {'hw:tpm_version': '2.0', 'hw:tpm_model': 'tpm-crb',
                     'hw:cpu_cores': '1'},
        'plain': {}}
    assert s.vms[0].security == {'sod:options': '1,2', 'sod:properties': 'C,I'}


def test_packaged_scenarios_load_by_name():
    assert {'paper', 'present-day'} <= set(scenario.packaged())
    for name in ('present-day', 'present-day.yaml'):
        s = scenario.load_file(name, known)
        assert s.name == 'present-day'
    assert scenario.load_file('paper', known).name == 'paper'
    s = scenario.load_file('present-day', known)
    archs = {h.name: h.architecture for h in s.hosts}
    assert sorted(archs.values()).count('AMD-SEV-SNP') == 2
    vms = {vm.name: vm for vm in s.vms}
    assert vms['cvm'].extra_specs['hw:mem_encryption_model'] == 'amd-sev-snp'
    assert vms['ordinary'].extra_specs == {}
    assert vms['ordinary'].security == vms['cvm'].security
    assert vms['measured'].extra_specs == {'hw:tpm_version': '2.0',
                                           'hw:tpm_model': 'tpm-crb'}


def test_a_file_wins_over_a_packaged_scenario_of_its_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / 'paper').write_text(HOSTS + 'name: mine\n')
    assert scenario.load_file('paper', known).name == 'mine'


def test_refused_option_is_left_for_the_cloud_to_reject():
    s = load(HOSTS + 'vms:\n  - {name: x, security: {options: [1, 4]}}\n')
    assert s.vms[0].security == {'sod:options': '1,4'}


@pytest.mark.parametrize('text,message', [
    (HOSTS + 'vms:\n  - {name: a}\n  - {name: b}\n  - {name: c, security: {options: [1, 9]}}\n',
     'vms[2].security.options: 9 is not an option (1-7)'),
    (HOSTS + 'vms:\n  - {name: a, security: {options: [1], properties: [X]}}\n',
     "vms[0].security.properties: 'X' is not a property (C, I)"),
    (HOSTS + 'vms:\n  - {name: a, security: {options: [1, 1]}}\n',
     'vms[0].security.options: 1 is given twice'),
    (HOSTS + 'vms:\n  - {name: a, security: {properties: [C]}}\n',
     'vms[0].security.properties: given without options'),
    (HOSTS + 'vms:\n  - {name: a, security: {}}\n',
     'vms[0].security: empty: give options and/or package'),
    (HOSTS + 'vms:\n  - {name: a, secuirty: {options: [1]}}\n',
     'vms[0].secuirty: unknown key (one of: name, security, extra_specs)'),
    (HOSTS + 'vms:\n  - {name: a, extra_specs: [hw:tpm_version]}\n',
     'vms[0].extra_specs: must be a mapping of extra spec names to values'),
    (HOSTS + 'vms:\n  - {name: a, extra_specs: {"hw:tpm_version": 2.0}}\n',
     'vms[0].extra_specs.hw:tpm_version: 2.0 is not a string: quote it ("2.0")'),
    (HOSTS + 'vms:\n  - {name: a, extra_specs: {"hw:tpm_model": [tpm-crb]}}\n',
     "vms[0].extra_specs.hw:tpm_model: ['tpm-crb'] is not a string: quote it"),
    (HOSTS + 'vms:\n  - {name: a, extra_specs: {"hw:mem_encryption_model": amd-sev-snq}}\n',
     "vms[0].extra_specs.hw:mem_encryption_model: 'amd-sev-snq' is not one of: "
     "amd-sev, amd-sev-es, amd-sev-snp, intel-tdx"),
    (HOSTS + 'vms:\n  - {name: a, extra_specs: {"hw:mem_encrypton": "true"}}\n',
     "vms[0].extra_specs.hw:mem_encrypton: extra spec 'hw:mem_encrypton' does not "
     "appear to be a valid extra spec"),
    (HOSTS + 'vms:\n  - {name: a, extra_specs: {"sod:options": "1,2"}}\n',
     "vms[0].extra_specs.sod:options: a VM's request goes in its security "
     "(instance metadata), not in its flavor's extra specs"),
    (HOSTS + 'vms:\n  - {name: a}\n  - {name: a}\n', "vms[1].name: 'a' is used twice"),
    (HOSTS + 'vms:\n  - {security: {options: [1]}}\n', 'vms[0].name: missing'),
    ('hosts:\n  - {name: h, architecture: Quantum}\n',
     "hosts[0].architecture: 'Quantum' is not in the catalogue"),
    ('hosts: []\n', 'hosts: must be a non-empty list'),
    ('vms: []\n', 'test.yaml.hosts: missing'),
    ('hosts:\n  - {name: h, architecture: TPM}\n  - {name: h, architecture: TPM}\n',
     "hosts[1].name: 'h' is used twice"),
    (HOSTS + 'events:\n  - {attack: {host: nope}}\n',
     "events[0].attack.host: 'nope' is not a host of this scenario"),
    (HOSTS + 'events:\n  - {explode: {host: hw1}}\n', 'events[0].explode: unknown event'),
    (HOSTS + 'events:\n  - {attack: {host: hw1}, recover: {host: hw1}}\n',
     'events[0]: must be a mapping with exactly one event'),
    (HOSTS + 'events:\n  - {attack: {}}\n', 'events[0].attack: give exactly one of host'),
    (HOSTS + 'events:\n  - {attack: {host_of: ghost}}\n',
     "events[0].attack.host_of: 'ghost' is not a VM of this scenario"),
    (HOSTS + 'events:\n  - {change_security: {vm: ghost, security: {options: [1]}}}\n',
     "events[0].change_security.vm: 'ghost' is not a VM of this scenario"),
    (HOSTS + 'vms:\n  - {name: a}\nevents:\n  - {change_security: {vm: a}}\n',
     'events[0].change_security.security: missing'),
    (HOSTS + 'vms:\n  - {name: a}\nevents:\n'
             '  - {change_security: {vm: a, security: {options: [0]}}}\n',
     'events[0].change_security.security.options: 0 is not an option (1-7)'),
    (HOSTS + 'events:\n  - {add_host: {name: hw1, architecture: TPM}}\n',
     "events[0].add_host.name: 'hw1' is used twice"),
    (HOSTS + 'events:\n  - {wait: {}}\n', 'events[0].wait.seconds: missing'),
    (HOSTS + 'events:\n  - {wait: {seconds: soon}}\n',
     "events[0].wait.seconds: 'soon' is not a number of seconds"),
    (HOSTS + 'events:\n  - {wait: {seconds: true}}\n',
     'events[0].wait.seconds: True is not a number of seconds'),
    (HOSTS + 'events:\n  - {wait: {seconds: 0}}\n',
     'events[0].wait.seconds: must be more than 0 and at most 3600 seconds'),
    (HOSTS + 'events:\n  - {wait: {seconds: .nan}}\n',
     'events[0].wait.seconds: must be more than 0 and at most 3600 seconds'),
    (HOSTS + 'events:\n  - {wait: {seconds: 3601}}\n',
     'events[0].wait.seconds: must be more than 0 and at most 3600 seconds'),
    (HOSTS + 'events:\n  - {wait: {seconds: 5, host: hw1}}\n',
     'events[0].wait.host: unknown key (one of: seconds)'),
    ('hosts:\n  - {name: "a/b", architecture: TPM}\n',
     "hosts[0].name: host name 'a/b' has the character '/'"),
    ('hosts:\n  - {name: "h\\u00e9", architecture: TPM}\n',
     "hosts[0].name: host name 'h\\xe9' has the character"),
    ('hosts:\n  - {name: %s, architecture: TPM}\n' % ('h' * 300),
     'hosts[0].name: host name is 300 characters long (at most 255)'),
    (HOSTS + 'events:\n  - {add_host: {name: "x y", architecture: TPM}}\n',
     "events[0].add_host.name: host name 'x y' has the character ' '"),
    ('hosts: [\n', 'test.yaml:2: not valid YAML'),
    ('- just a list\n', 'test.yaml: must be a mapping'),
    (HOSTS + 'colour: red\n', 'test.yaml.colour: unknown key (one of: name, hosts, vms, events)'),
    (HOSTS + 'events:\n  - 5\n', 'events[0]: must be a mapping with exactly one event '
     '(attack, recover, silence, resume, forge, replay, forge_challenge, change_security, '
     'add_host, wait)'),
    (HOSTS + 'vms:\n  - {name: a, security: {package: " "}}\n',
     'vms[0].security.package: must be a non-empty string'),
    (HOSTS + 'events:\n  - {attack: {host: hw1, host_of: a}}\n',
     'events[0].attack: give exactly one of host, host_of'),
    (HOSTS + 'events:\n  - {wait: 5}\n', 'events[0].wait: must be a mapping'),
])
def test_format_errors_say_what_and_where(text, message):
    with pytest.raises(scenario.ScenarioError) as exc:
        load(text)
    assert str(exc.value).startswith(message)


#: Keywords that annotate (validators ignore them), the schema's own, and
#: those jsonschema applies within another's (``if``'s ``then``/``else``).
ANNOTATIONS = {'$schema', '$defs', 'title', 'description', 'x-messages',
               'then', 'else'}
SCHEMA_MAPS = ('properties', '$defs', 'patternProperties', 'dependentSchemas')
SCHEMA_LISTS = ('allOf', 'anyOf', 'oneOf', 'prefixItems')
SCHEMA_ONE = ('items', 'contains', 'additionalProperties', 'propertyNames',
              'if', 'then', 'else', 'not')


def _subschemas(schema, where='#'):
    yield where, schema
    for keyword, value in schema.items():
        if keyword in SCHEMA_MAPS:
            for name, sub in value.items():
                yield from _subschemas(sub, '%s/%s/%s' % (where, keyword, name))
        elif keyword in SCHEMA_LISTS:
            for i, sub in enumerate(value):
                yield from _subschemas(sub, '%s/%s/%d' % (where, keyword, i))
        elif keyword in SCHEMA_ONE and isinstance(value, dict):
            yield from _subschemas(value, '%s/%s' % (where, keyword))


def test_the_structure_is_a_json_schema_whose_every_keyword_counts():
    """A misspelt keyword (``requried``, ``additionalProperty``) is valid
    JSON Schema that checks nothing: every keyword must be one the validator
    applies, each message must belong to a keyword of its schema, each
    ``$ref`` must resolve."""
    checker = scenario.validator()
    jsonschema.Draft202012Validator.check_schema(checker.schema)
    known = set(type(checker).VALIDATORS) | ANNOTATIONS
    for where, schema in _subschemas(checker.schema):
        assert set(schema) <= known, (where, set(schema) - known)
        assert set(schema.get('x-messages', ())) <= set(schema), where
        if '$ref' in schema:
            target = checker.schema
            for part in schema['$ref'].removeprefix('#/').split('/'):
                target = target.get(part, {})
            assert target, (where, schema['$ref'])


def test_unreadable_file(tmp_path):
    with pytest.raises(scenario.ScenarioError, match='cannot read') as exc:
        scenario.load_file(str(tmp_path / 'absent.yaml'), known)
    assert 'the scenarios that come with sod-nova: ' in str(exc.value)
    assert 'present-day' in str(exc.value)
    binary = tmp_path / 'bin.yaml'
    binary.write_bytes(b'\xff\xfe\x00')
    with pytest.raises(scenario.ScenarioError, match='not a UTF-8 text file'):
        scenario.load_file(str(binary), known)


@pytest.mark.parametrize('build,message', [
    (lambda: 'hosts:\n' + ''.join('  - {name: h%d, architecture: TPM}\n' % i
                                  for i in range(scenario.MAX_HOSTS + 1)),
     'hosts: %d hosts (with add_host events), over the limit of %d'
     % (scenario.MAX_HOSTS + 1, scenario.MAX_HOSTS)),
    (lambda: HOSTS + 'events:\n' + ''.join(
        '  - {add_host: {name: n%d, architecture: TPM}}\n' % i
        for i in range(scenario.MAX_HOSTS - 1)),
     'hosts: %d hosts (with add_host events), over the limit of %d'
     % (scenario.MAX_HOSTS + 1, scenario.MAX_HOSTS)),
    (lambda: HOSTS + 'vms:\n' + ''.join('  - {name: v%d}\n' % i
                                        for i in range(scenario.MAX_VMS + 1)),
     'vms: %d VMs, over the limit of %d' % (scenario.MAX_VMS + 1, scenario.MAX_VMS)),
    (lambda: HOSTS + 'events:\n' + '  - {attack: {host: hw1}}\n' * (scenario.MAX_EVENTS + 1),
     'events: %d events, over the limit of %d'
     % (scenario.MAX_EVENTS + 1, scenario.MAX_EVENTS)),
])
def test_a_scenario_over_a_size_limit_is_refused_naming_it(build, message):
    with pytest.raises(scenario.ScenarioError) as exc:
        load(build())
    assert str(exc.value).startswith(message)


def test_scenarios_at_the_limits_load():
    text = ('hosts:\n' + ''.join('  - {name: h%d, architecture: TPM}\n' % i
                                 for i in range(scenario.MAX_HOSTS))
            + 'vms:\n' + ''.join('  - {name: v%d}\n' % i for i in range(scenario.MAX_VMS))
            + 'events:\n' + '  - {attack: {host: h0}}\n' * scenario.MAX_EVENTS)
    s = load(text)
    assert (len(s.hosts), len(s.vms), len(s.events)) == (
        scenario.MAX_HOSTS, scenario.MAX_VMS, scenario.MAX_EVENTS)


def test_a_file_over_the_byte_limit_is_refused_unread(tmp_path):
    big = tmp_path / 'big.yaml'
    big.write_text(HOSTS + '#' * scenario.MAX_FILE_BYTES)
    with pytest.raises(scenario.ScenarioError,
                       match='larger than the limit of %d bytes' % scenario.MAX_FILE_BYTES):
        scenario.load_file(str(big), known)
