"""Every float option of sod-nova is a finite number between finite bounds."""

import math

from keystoneauth1 import loading as ks_loading
from oslo_config import cfg
import pytest

import sod_nova.conf
from sod_nova.conf import opts
from sod_nova.conf import types

#: keystoneauth's own options (its session ``timeout``) are its to bound.
KEYSTONEAUTH = {opt.dest for opt in ks_loading.get_session_conf_options()}
FLOAT_OPTS = [(group if isinstance(group, str) else group.name, opt)
              for group, group_opts in opts.list_opts()
              for opt in group_opts
              if isinstance(opt, cfg.FloatOpt) and opt.dest not in KEYSTONEAUTH]


def _conf_from(tmp_path, text):
    path = tmp_path / 'sod.conf'
    path.write_text(text)
    conf = cfg.ConfigOpts()
    for module in sod_nova.conf._MODULES:
        module.register_opts(conf)
    conf(['--config-file', str(path)])
    return conf


def test_every_float_option_is_finite_and_bounded():
    assert len(FLOAT_OPTS) >= 10
    for group, opt in FLOAT_OPTS:
        assert isinstance(opt, types.FiniteFloatOpt), (group, opt.dest)
        assert math.isfinite(opt.type.min) and math.isfinite(opt.type.max)
        assert opt.type.min <= opt.default <= opt.type.max, (group, opt.dest)


@pytest.mark.parametrize('value', ['nan', 'NaN', 'inf', '-inf', '1e999', ''])
@pytest.mark.parametrize('group,opt', FLOAT_OPTS,
                         ids=['%s.%s' % (g, o.dest) for g, o in FLOAT_OPTS])
def test_a_non_finite_value_is_one_line_naming_the_option(
        tmp_path, group, opt, value):
    conf = _conf_from(tmp_path, '[%s]\n%s = %s\n' % (group, opt.dest, value))
    with pytest.raises(cfg.ConfigFileValueError) as caught:
        getattr(conf[group], opt.dest)
    message = str(caught.value)
    assert opt.dest in message and '\n' not in message


def test_a_nan_nonce_age_no_longer_makes_every_nonce_fresh(tmp_path):
    conf = _conf_from(tmp_path, '[sod_trust]\nnonce_max_age = nan\n')
    with pytest.raises(ValueError, match='finite number from 0.1 to 86400'):
        _ = conf.sod_trust.nonce_max_age


def test_a_finite_value_within_bounds_still_loads(tmp_path):
    conf = _conf_from(tmp_path, '[sod_trust]\nnonce_max_age = 12.5\n'
                                '[sod_relocation]\nretry_backoff = 0\n')
    assert conf.sod_trust.nonce_max_age == 12.5
    assert conf.sod_relocation.retry_backoff == 0.0


def test_bounds_themselves_must_be_finite():
    with pytest.raises(ValueError, match='finite'):
        types.FiniteFloatOpt('x', min=0.0, max=math.inf)


def test_check_values_finds_a_bad_value_no_service_read_yet(tmp_path):
    conf = _conf_from(tmp_path, '[sod_relocation]\nretry_backoff = nan\n')
    with pytest.raises(cfg.ConfigFileValueError, match='retry_backoff'):
        types.check_values(conf, opts.list_opts())
    types.check_values(_conf_from(tmp_path, ''), opts.list_opts())
