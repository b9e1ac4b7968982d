"""One exception base: message formats, and every error root derives from it."""

import ast
import logging
import pathlib

import pytest

import sod_nova
from sod_nova import exception
from sod_nova import hostname
from sod_nova.policy import parse

BUILTIN_ROOTS = {'Exception', 'ValueError', 'RuntimeError', 'TimeoutError',
                 'LookupError', 'KeyError', 'TypeError', 'OSError'}


class HostGone(exception.SodNovaException):
    msg_fmt = '%(host)s is gone: %(why)s'


def test_message_from_the_format_and_its_keywords():
    exc = HostGone(host='cn1', why='no evidence')
    assert str(exc) == 'cn1 is gone: no evidence'
    assert exc.kwargs == {'host': 'cn1', 'why': 'no evidence'}


def test_a_given_message_is_used_as_it_is():
    assert str(HostGone('composed where it happened: 100%')) == (
        'composed where it happened: 100%')


def test_a_wrong_field_still_raises_the_error(caplog):
    with caplog.at_level(logging.ERROR, 'sod_nova.exception'):
        exc = HostGone(host='cn1')
    assert str(exc) == HostGone.msg_fmt
    assert 'does not take' in caplog.text


def test_roots_keep_the_builtin_class_callers_catch():
    with pytest.raises(ValueError, match='^host name is empty$') as raised:
        hostname.check('')
    assert isinstance(raised.value, exception.SodNovaException)
    error = parse.PolicyError('sod:option', 'unknown', refused=True)
    assert isinstance(error, exception.SodNovaException)
    assert isinstance(error, ValueError)
    assert str(error) == 'sod:option: unknown'


def test_every_error_root_derives_from_the_one_base():
    roots = []
    for path in pathlib.Path(sod_nova.__file__).parent.rglob('*.py'):
        for node in ast.walk(ast.parse(path.read_text(encoding='utf-8'))):
            if not isinstance(node, ast.ClassDef) or node.name == 'SodNovaException':
                continue
            bases = [ast.unparse(b) for b in node.bases]
            if BUILTIN_ROOTS & set(bases) and not any(
                    b.endswith('SodNovaException') for b in bases):
                roots.append('%s: %s(%s)' % (path.name, node.name, ', '.join(bases)))
    assert roots == []
