"""``sod-nova catalog`` and ``sod-nova request check`` as a user runs them."""

import json
import subprocess
import sys

import pytest

SNP = ['--extra-spec', 'hw:mem_encryption=true',
       '--extra-spec', 'hw:mem_encryption_model=amd-sev-snp']


def sod_nova(*args):
    """Run the installed CLI in a fresh process, as an operator would."""
    return subprocess.run([sys.executable, '-m', 'sod_nova.cmd.manage', *args],
                          capture_output=True, text=True, timeout=60)


def test_request_check_json_satisfied():
    result = sod_nova('request', 'check', '--options', '1,2', '--format', 'json')
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    conditions = out.pop('guest_conditions')
    assert out == {
        'request': {'Other VMs': ['C', 'I'], 'Hypervisor': ['C', 'I']},
        'guest': None,
        'satisfied_by': ['AMD-SEV-SNP', 'Arm-CCA', 'Cell', 'H-SVM', 'HyperWall',
                         'Intel-SGX', 'Intel-TDX'],
        'explanation': None}
    # Each row that protects only a guest launched for it says so.
    assert sorted(conditions) == ['AMD-SEV-SNP', 'Arm-CCA', 'Intel-SGX',
                                  'Intel-TDX']
    assert conditions['AMD-SEV-SNP'] == (
        'AMD-SEV-SNP protects C, I against Other VMs; C, I against '
        'Hypervisor only for a guest launched with hw:mem_encryption=true, '
        'hw:mem_encryption_model=amd-sev-snp')


def test_request_check_table_marks_the_guest_conditional_rows():
    result = sod_nova('request', 'check', '--options', '1,2')
    assert result.returncode == 0, result.stderr
    assert ('Cell, H-SVM, HyperWall; only for a guest launched for it: '
            'AMD-SEV-SNP, Arm-CCA, Intel-SGX, Intel-TDX') in result.stdout


def test_request_check_for_an_snp_guest():
    result = sod_nova('request', 'check', '--options', '1,2', *SNP, '-f',
                      'json')
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out['guest'] == ('a guest launched with hw:mem_encryption=true, '
                            'hw:mem_encryption_model=amd-sev-snp')
    assert out['satisfied_by'] == ['AMD-SEV-SNP', 'Cell', 'H-SVM',
                                   'HyperWall']
    assert out['guest_conditions']['Intel-TDX'].endswith(
        'hw:mem_encryption_model=intel-tdx; this flavor does not ask for it')


def test_request_check_ordinary_guest_on_present_day_rows(present_day_file):
    catalog = present_day_file
    args = ('request', 'check', '--options', '2', '--catalog', str(catalog),
            '-f', 'json')
    result = sod_nova(*args, '--extra-spec', 'hw:cpu_policy=dedicated',
                      '--image-property', 'os_distro=ubuntu')
    assert result.returncode == 1, result.stderr
    out = json.loads(result.stdout)
    assert out['satisfied_by'] == []
    sentence = ('AMD-SEV-SNP protects C, I against Hypervisor only for a '
                'guest launched with hw:mem_encryption=true, '
                'hw:mem_encryption_model=amd-sev-snp; neither this flavor '
                'nor this image asks for it')
    assert out['guest_conditions']['AMD-SEV-SNP'] == sentence
    assert sentence in out['explanation']
    # The same row for the guest it protects.
    result = sod_nova(*args, '--image-property', 'hw_mem_encryption=true',
                      '--image-property',
                      'hw_mem_encryption_model=amd-sev-snp')
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)['satisfied_by'] == ['AMD-SEV-SNP']


def test_request_check_takes_the_flavors_sod_keys():
    result = sod_nova('request', 'check', '--extra-spec', 'sod:options=2',
                      '--extra-spec', 'sod:properties=C', '-f', 'json')
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out['request'] == {'Hypervisor': ['C']}
    assert 'HyperWall' in out['satisfied_by']


def test_request_check_package_table():
    result = sod_nova('request', 'check', '--package', 'medical-records')
    assert result.returncode == 0, result.stderr
    assert 'Bastion, DataSafe' in result.stdout
    assert 'Same App:CI' in result.stdout


def test_request_check_unsatisfiable_exits_1_with_explanation():
    result = sod_nova('request', 'check', '--options', '1,2,3', '-f', 'json')
    assert result.returncode == 1
    out = json.loads(result.stdout)
    assert out['satisfied_by'] == []
    assert 'lacks I against HW attacks' in out['explanation']


@pytest.mark.parametrize('args,message', [
    (['--options', '9'], 'sod:options: 9 is not an option (1-7)'),
    (['--options', '4'], 'sod:options: option 4 (Cloud Manager) is refused'),
    (['--options', '1', '--properties', 'X'], "sod:properties: 'X' is not a property"),
    (['--package', 'nope'], "sod:package: 'nope' is not a security package"),
    ([], 'give --options and/or --package'),
    (['--extra-spec', 'hw:cpu_policy=dedicated'],
     'give --options and/or --package'),
    (['--options', '1', '--extra-spec', 'hw:mem_encryption'],
     "--extra-spec 'hw:mem_encryption': give KEY=VALUE"),
    (['--options', '1', '--extra-spec', '=true'],
     "--extra-spec '=true': give KEY=VALUE"),
    (['--options', '1', '--image-property', 'hw_tpm_version=2.0',
      '--image-property', 'hw_tpm_version=1.2'],
     "--image-property hw_tpm_version is given twice ('2.0' and '1.2')"),
    (['--options', '1', '--extra-spec', 'hw:mem_encryption=maybe'],
     "flavor extra spec hw:mem_encryption: 'maybe' is not a boolean"),
    (['--options', '1', '--extra-spec', 'hw:mem_encryption=true',
      '--image-property', 'hw_mem_encryption=false'],
     'flavor extra spec hw:mem_encryption: true conflicts with image '
     'property hw_mem_encryption=false'),
    (['--options', '1', '--extra-spec', 'sod:options=4'],
     'flavor extra spec sod:options: option 4 (Cloud Manager) is refused'),
    (['--options', '1', '--catalog', '/nonexistent.yaml'],
     '/nonexistent.yaml: cannot read'),
])
def test_bad_input_is_one_line_exit_2(args, message):
    result = sod_nova('request', 'check', *args)
    assert result.returncode == 2
    assert result.stdout == ''
    assert result.stderr.startswith('sod-nova: ' + message)
    assert result.stderr.count('\n') == 1
    assert 'Traceback' not in result.stderr


def test_catalog_list_json():
    result = sod_nova('catalog', 'list', '-f', 'json')
    assert result.returncode == 0, result.stderr
    rows = {r['Name']: r for r in json.loads(result.stdout)}
    assert rows['NoHype']['Hypervisor'] == 'removed/removed'
    assert rows['Cell']['HW attacks'] == 'yes/no'
    assert len(rows) >= 17


def test_catalog_list_names_the_guest_feature_a_row_needs():
    result = sod_nova('catalog', 'list', '-f', 'json')
    assert result.returncode == 0, result.stderr
    needs = {r['Name']: r['Guest Needs'] for r in json.loads(result.stdout)}
    assert needs['AMD-SEV-SNP'] == 'amd-sev-snp'
    assert needs['vTPM-Measured-Boot'] == 'vtpm'
    assert needs['HyperWall'] == '-'


def test_catalog_show_and_unknown():
    result = sod_nova('catalog', 'show', 'intel-tdx', '-f', 'json')
    assert result.returncode == 0, result.stderr
    row = json.loads(result.stdout)
    assert row['name'] == 'Intel-TDX'
    assert row['Hypervisor C'].startswith('yes - ')
    assert row['guest'].startswith('Intel-TDX protects C, I against Other '
                                   'VMs; ')
    assert row['guest'].endswith(
        'only for a guest launched with hw:mem_encryption=true, '
        'hw:mem_encryption_model=intel-tdx')
    assert row['guest_launch'] == ('hw:mem_encryption=true, '
                                   'hw:mem_encryption_model=intel-tdx')
    assert row['guest_source'].startswith('Intel TDX white paper (2023)')
    result = sod_nova('catalog', 'show', 'intel-sgx', '-f', 'json')
    row = json.loads(result.stdout)
    assert row['guest_launch'] == ('no flavor or image can ask for it in '
                                   'Nova 34')
    result = sod_nova('catalog', 'show', 'hyperwall', '-f', 'json')
    row = json.loads(result.stdout)
    assert (row['guest'], row['guest_launch'], row['guest_source']) == (
        'any guest (it needs no guest launch feature)', None, None)
    result = sod_nova('catalog', 'show', 'nope')
    assert result.returncode == 2
    assert "'nope' is not in the catalogue" in result.stderr


def test_operator_catalogue_file(tmp_path):
    path = tmp_path / 'mine.yaml'
    path.write_text('architectures:\n  - name: Box\n    cells:\n' + ''.join(
        '      %s: [yes, yes]\n' % key for key in (
            'same_app', 'other_apps', 'same_os', 'other_vms', 'hypervisor',
            'hw_attacks', 'cloud_manager')))
    result = sod_nova('request', 'check', '--options', '1,2,3', '--catalog',
                      str(path), '-f', 'json')
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)['satisfied_by'] == ['Box']
