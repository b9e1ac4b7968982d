"""``sod-nova db`` and ``sod-nova host`` as an operator runs them."""

import json
import subprocess
import sys
import types

from oslo_config import cfg
import pytest

from sod_nova.cli import db as db_cli
from sod_nova.conf import database
from sod_nova.db import api as db_api

CTX = db_api.Context()


@pytest.fixture
def conf_file(tmp_path):
    path = tmp_path / 'sod_nova.conf'
    path.write_text('[sod_database]\nconnection = sqlite:///%s/sod.sqlite\n'
                    % tmp_path)
    return str(path)


def sod_nova(conf_file, *args):
    return subprocess.run(
        [sys.executable, '-m', 'sod_nova.cmd.manage', '--config-file',
         conf_file, *args], capture_output=True, text=True, timeout=60)


def test_sync_declare_list(conf_file):
    result = sod_nova(conf_file, 'db', 'sync')
    assert result.returncode == 0, result.stderr
    assert 'sod-nova database at revision' in result.stdout

    result = sod_nova(conf_file, 'host', 'declare', 'cn1', 'hyperwall',
                      '-f', 'json')
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout)
    assert (shown['Architecture'], shown['State'], shown['Reason']) == (
        'HyperWall', 'unreachable', 'no verified evidence yet')

    result = sod_nova(conf_file, 'host', 'list', '-f', 'json')
    assert result.returncode == 0, result.stderr
    assert [(h['Host'], h['State']) for h in json.loads(result.stdout)] == [
        ('cn1', 'unreachable')]


def test_declare_unknown_architecture_exits_2_with_one_line(conf_file):
    assert sod_nova(conf_file, 'db', 'sync').returncode == 0
    result = sod_nova(conf_file, 'host', 'declare', 'cn1', 'Pentium')
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(
        "sod-nova: 'Pentium' is not in the catalogue (known: AEGIS, ")


def test_list_before_sync_says_what_to_do(conf_file):
    result = sod_nova(conf_file, 'host', 'list')
    assert result.returncode == 1
    assert 'run "sod-nova db sync" first' in result.stderr
    assert 'Traceback' not in result.stderr


def test_missing_database_directory_exits_2(tmp_path):
    path = tmp_path / 'bad.conf'
    path.write_text('[sod_database]\nconnection = sqlite:///%s/no/x.sqlite\n'
                    % tmp_path)
    result = sod_nova(str(path), 'db', 'sync')
    assert result.returncode == 2
    assert 'does not exist; create it or set [sod_database] connection' in (
        result.stderr)


def test_a_missing_table_is_told_by_its_class(conf_file):
    conf = cfg.ConfigOpts()
    database.register_opts(conf)
    conf(['--config-file', conf_file])
    try:
        with pytest.raises(db_cli.DatabaseFailure,
                           match=r'^database error \(run "sod-nova db sync" '
                                 r'first\): .*no such table'):
            db_cli.run_db(types.SimpleNamespace(conf=conf),
                          lambda: db_api.host_get_all(CTX))
    finally:
        db_api.dispose()
