"""The booking workflow as a pure rule (the database trigger enforces the same table)."""

from __future__ import annotations

import itertools

import pytest

from dreamer.bookings.service import can_move
from dreamer.models import BookingStatus as S

ALLOWED = {
    (S.PENDING, S.CONFIRMED),
    (S.PENDING, S.CANCELLED),
    (S.CONFIRMED, S.COMPLETED),
    (S.CONFIRMED, S.CANCELLED),
    (S.CONFIRMED, S.NO_SHOW),
}


@pytest.mark.parametrize(("current", "target"), list(itertools.product(S, S)))
def test_only_the_workflow_moves_are_allowed(current: S, target: S) -> None:
    assert can_move(current, target) == ((current, target) in ALLOWED)


def test_closed_bookings_never_move() -> None:
    for closed in (S.CANCELLED, S.COMPLETED, S.NO_SHOW):
        assert not any(can_move(closed, target) for target in S)
