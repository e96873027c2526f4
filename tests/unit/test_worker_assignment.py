"""Which worker runs which camera: adding or removing a camera moves no other."""

from __future__ import annotations

from service.workers.assignment import assign


def test_new_cameras_spread_over_the_workers() -> None:
    placed = assign({}, [f"c{n}" for n in range(7)], 3)
    assert sorted(placed.values()).count(0) == 3 and list(placed.values()).count(1) == 2
    assert list(placed.values()).count(2) == 2


def test_adding_a_camera_moves_no_other() -> None:
    before = assign({}, ["a", "b", "c", "d"], 2)
    after = assign(before, ["a", "b", "x", "c", "d"], 2)
    assert {camera: after[camera] for camera in before} == before
    assert after["x"] in (0, 1)


def test_removing_cameras_moves_no_other_and_new_ones_fill_the_lighter_worker() -> None:
    before = assign({}, ["a", "b", "c", "d"], 2)
    on_zero = [camera for camera, worker in before.items() if worker == 0]
    kept = [camera for camera in before if camera not in on_zero]
    after = assign(before, [*kept, "new1", "new2"], 2)
    assert {camera: after[camera] for camera in kept} == {camera: before[camera] for camera in kept}
    assert after["new1"] == after["new2"] == 0  # the worker that lost its cameras takes the new ones


def test_a_moved_camera_stays_where_it_was_moved() -> None:
    placed = assign({}, ["a", "b"], 2)
    moved = {**placed, "a": 1}
    assert assign(moved, ["a", "b", "c"], 2)["a"] == 1


def test_cameras_of_a_worker_that_no_longer_exists_are_placed_again() -> None:
    placed = assign({"a": 0, "b": 3}, ["a", "b"], 2)
    assert placed == {"a": 0, "b": 1}
