"""streams/backoff.py."""

from __future__ import annotations

import pytest

from streams.backoff import Backoff


def test_delays_in_turn_then_the_last_one_repeats_until_reset() -> None:
    backoff = Backoff([1, 2, 5])
    assert [backoff.next_delay() for _ in range(5)] == [1, 2, 5, 5, 5]
    backoff.reset()
    assert backoff.next_delay() == 1 and backoff.attempt == 1


def test_no_delays_is_a_mistake() -> None:
    with pytest.raises(ValueError):
        Backoff([])
