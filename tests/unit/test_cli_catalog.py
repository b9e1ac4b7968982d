"""``sod-nova catalog`` and ``sod-nova request check`` as a user runs them."""

import json
import subprocess
import sys

import pytest


def sod_nova(*args):
    """Run the installed CLI in a fresh process, as an operator would."""
    return subprocess.run([sys.executable, '-m', 'sod_nova.cmd.manage', *args],
                          capture_output=True, text=True, timeout=60)


def test_request_check_json_satisfied():
    result = sod_nova('request', 'check', '--options', '1,2', '--format', 'json')
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        'request': {'Other VMs': ['C', 'I'], 'Hypervisor': ['C', 'I']},
        'satisfied_by': ['AMD-SEV-SNP', 'Arm-CCA', 'Cell', 'H-SVM', 'HyperWall',
                         'Intel-SGX', 'Intel-TDX'],
        'explanation': None}


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


def test_catalog_show_and_unknown():
    result = sod_nova('catalog', 'show', 'intel-tdx', '-f', 'json')
    assert result.returncode == 0, result.stderr
    row = json.loads(result.stdout)
    assert row['name'] == 'Intel-TDX'
    assert row['Hypervisor C'].startswith('yes - ')
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
