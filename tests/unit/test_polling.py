"""The one polling rule (tenacity underneath) of the cloud's and tests' waits."""

import time

import pytest

from sod_nova import polling


def test_returns_the_first_true_value():
    values = iter([None, 0, 'ready', 'later'])
    assert polling.until(lambda: next(values), 5, 0.001) == 'ready'


def test_returns_the_last_false_value_after_the_timeout():
    started = time.monotonic()
    assert polling.until(lambda: [], 0.05, 0.01) == []
    assert 0.05 <= time.monotonic() - started < 1


def test_an_exception_of_the_predicate_ends_the_wait():
    calls = []

    def broken():
        calls.append(1)
        raise KeyError('gone')

    with pytest.raises(KeyError):
        polling.until(broken, 5, 0.001)
    assert calls == [1]
