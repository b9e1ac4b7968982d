"""[nova] and [relocation] options: loading, bounds, and the Nova client."""

from oslo_config import cfg
import pytest

from sod_nova.conf import nova_client
from sod_nova.conf import relocation
from sod_nova.relocation import compute


@pytest.fixture
def conf():
    conf = cfg.ConfigOpts()
    nova_client.register_opts(conf)
    relocation.register_opts(conf)
    conf([])
    return conf


def test_relocation_defaults_and_bounds(conf):
    assert conf.relocation.no_host_action == 'pause'
    assert conf.relocation.max_concurrent >= conf.relocation.max_per_source_host
    with pytest.raises(ValueError):
        conf.set_override('no_host_action', 'delete', 'relocation')
    with pytest.raises(ValueError):
        conf.set_override('max_concurrent', 0, 'relocation')
    with pytest.raises(ValueError):
        conf.set_override('moving_target_jitter', 1.0, 'relocation')


def test_connect_refuses_missing_credentials(conf):
    with pytest.raises(compute.NovaError, match=r'\[nova\] auth_type'):
        compute.connect(conf)


def test_connect_builds_an_sdk_connection_from_keystoneauth_options(tmp_path):
    config = tmp_path / 'sod.conf'
    config.write_text('\n'.join([
        '[nova]', 'auth_type = password',
        'auth_url = http://keystone.example:5000/v3',
        'username = sod-nova', 'password = secret',
        'user_domain_name = Default', 'project_name = service',
        'project_domain_name = Default', 'region_name = RegionTwo',
        'interface = public', '']))
    conf = cfg.ConfigOpts()
    nova_client.register_opts(conf)
    conf([], default_config_files=[str(config)])
    nova = compute.connect(conf)              # no request is sent yet
    assert nova.conn.session.auth.auth_url == (
        'http://keystone.example:5000/v3')
    assert nova.conn.config.get_region_name('compute') == 'RegionTwo'
    assert nova.conn.config.get_interface('compute') == 'public'


def test_list_opts_publish_both_groups():
    assert [g.name for g in nova_client.list_opts()] == ['nova']
    names = {o.dest for o in nova_client.list_opts()[nova_client.nova_group]}
    assert {'auth_type', 'auth_url', 'cafile', 'region_name'} <= names
    assert [g.name for g in relocation.list_opts()] == ['relocation']
