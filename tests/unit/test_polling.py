"""The one polling rule (tenacity underneath) of the cloud's and tests' waits."""

import pytest

from sod_nova import polling


class Clock:
    """A clock that moves only when waited on (or told to)."""

    def __init__(self):
        self.now = 0
        self.sleeps = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


def test_returns_the_first_true_value():
    clock = Clock()
    values = iter([None, 0, 'ready', 'later'])
    assert polling.until(lambda: next(values), 5, 1,
                         clock=clock, sleep=clock.sleep) == 'ready'
    assert clock.sleeps == [1, 1]


def test_returns_the_last_false_value_after_the_timeout():
    clock = Clock()
    polls = []

    def never():
        polls.append(clock.now)
        return []

    assert polling.until(never, 5, 1, clock=clock, sleep=clock.sleep) == []
    assert polls == [0, 1, 2, 3, 4, 5]
    assert clock.sleeps == [1] * 5


def test_the_predicates_own_time_counts_towards_the_timeout():
    clock = Clock()
    polls = []

    def slow():
        polls.append(clock.now)
        clock.now += 2
        return None

    assert polling.until(slow, 5, 1, clock=clock, sleep=clock.sleep) is None
    assert polls == [0, 3]


def test_the_real_clock_by_default():
    values = iter([None, 'ready'])
    assert polling.until(lambda: next(values), 60, 0.001) == 'ready'


def test_an_exception_of_the_predicate_ends_the_wait():
    calls = []

    def broken():
        calls.append(1)
        raise KeyError('gone')

    with pytest.raises(KeyError):
        polling.until(broken, 5, 0.001)
    assert calls == [1]
