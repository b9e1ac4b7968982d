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
    assert conf.sod_relocation.no_host_action == 'pause'
    assert conf.sod_relocation.max_concurrent >= conf.sod_relocation.max_per_source_host
    with pytest.raises(ValueError):
        conf.set_override('no_host_action', 'delete', 'sod_relocation')
    with pytest.raises(ValueError):
        conf.set_override('max_concurrent', 0, 'sod_relocation')
    with pytest.raises(ValueError):
        conf.set_override('moving_target_jitter', 1.0, 'sod_relocation')


def test_moving_target_minimum_and_project_bound_are_bounded(conf):
    assert conf.sod_relocation.moving_target_min == 300
    assert conf.sod_relocation.project_moves_per_hour == 100
    for name, value in (('moving_target_min', 0),
                        ('moving_target_min', 86401),
                        ('project_moves_per_hour', 0)):
        with pytest.raises(ValueError):
            conf.set_override(name, value, 'sod_relocation')


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
    assert [g.name for g in relocation.list_opts()] == ['sod_relocation']


def test_renamed_groups_still_read_their_old_names(tmp_path):
    # [trust], [relocation], [filter], [catalog] and [upgrade_check] became
    # [sod_...]; a configuration file of the last release still works.
    from oslo_config import cfg

    import sod_nova.conf
    conf = cfg.ConfigOpts()
    for module in sod_nova.conf._MODULES:
        module.register_opts(conf)
    old = tmp_path / 'old.conf'
    old.write_text('[trust]\nevidence_max_age = 7\n[relocation]\nretries = 9\n'
                   '[filter]\nhost_cache_seconds = 3\n[catalog]\npackages_file = /x\n'
                   '[upgrade_check]\nnova_config_files = /n.conf\n')
    conf(['--config-file', str(old)])
    assert (conf.sod_trust.evidence_max_age, conf.sod_relocation.retries,
            conf.sod_filter.host_cache_seconds, conf.sod_catalog.packages_file,
            conf.sod_upgrade_check.nova_config_files) == (7.0, 9, 3.0, '/x', ['/n.conf'])
    new = tmp_path / 'new.conf'
    new.write_text('[sod_trust]\nevidence_max_age = 8\n')
    conf(['--config-file', str(old), '--config-file', str(new)])
    assert conf.sod_trust.evidence_max_age == 8.0
