"""When a camera's reader rests: only once caught up with the camera, never while reading a backlog."""

from __future__ import annotations

from streams.read_pacing import ReadPacer

FRAME = 0.04  # 25 fps


class Camera:
    """Frames stamped on the camera's clock, read at chosen times of ours."""

    def __init__(self, clock_rate: float = 1.0, offset: float = 1000.0) -> None:
        self.rate = clock_rate  # the camera's seconds per one of ours (a drifting clock is not 1)
        self.offset = offset  # the clocks' unknown difference
        self.frame = 0

    def media_time(self, sent_at: float) -> float:
        return (sent_at - self.offset) * self.rate


def test_a_reader_caught_up_rests_as_long_as_allowed_and_never_in_its_first_seconds() -> None:
    camera, tolerated = Camera(), [0.25]
    pacer = ReadPacer(0.5, lambda: tolerated[0], connected_at=0.0)
    times = [n * FRAME for n in range(1, 200)]
    rests = [pacer.rest_after(t, camera.media_time(t)) for t in times]
    assert all(r == 0.0 for t, r in zip(times, rests, strict=True) if t < 4.99)  # the connection's first 5 s
    assert all(r == 0.25 for t, r in zip(times, rests, strict=True) if t > 5.01)  # each frame read as it came
    tolerated[0] = 0.0  # a live viewer subscribed: read every frame at once
    assert pacer.rest_after(4.8, camera.media_time(4.8)) == 0.0
    assert pacer.rest_after(5.0, camera.media_time(5.0)) == 0.0
    tolerated[0] = float("inf")  # nobody subscribed: the configured limit
    assert pacer.rest_after(5.04, camera.media_time(5.04)) == 0.5


def test_a_backlog_is_read_without_rest_until_the_frame_that_was_waited_for() -> None:
    camera = Camera()
    pacer = ReadPacer(0.25, lambda: 0.25, connected_at=0.0)
    for n in range(1, 200):  # 8 s read frame by frame: caught up
        pacer.rest_after(n * FRAME, camera.media_time(n * FRAME))
    # The reader rested 0.25 s: six frames wait in the socket and are read within a millisecond, then the seventh
    # is waited for.
    sent = [200 * FRAME + k * FRAME for k in range(7)]
    read = [sent[5] + 0.0001 * k for k in range(6)] + [sent[6]]
    rests = [pacer.rest_after(r, camera.media_time(s)) for r, s in zip(read, sent, strict=True)]
    assert rests[:4] == [0.0] * 4  # 200, 160, 120, 80 ms late: a backlog, read on
    assert rests[4:] == [0.25] * 3  # within 50 ms of the camera: caught up


def test_a_reader_that_falls_behind_never_rests_until_it_has_caught_up() -> None:
    camera = Camera()
    pacer = ReadPacer(0.25, lambda: 0.25, connected_at=0.0)
    t = FRAME
    while t < 8.0:
        pacer.rest_after(t, camera.media_time(t))
        t += FRAME
    # Now reading is slower than the camera sends (a loaded box): each frame is read later than the one before.
    behind = 0.0
    rests = []
    for n in range(600):  # 24 s, two windows and more: the lateness keeps growing and is never taken as the norm
        sent = t + n * FRAME
        behind += 0.004
        rests.append(pacer.rest_after(sent + behind, camera.media_time(sent)))
    late = [n for n, rest in enumerate(rests) if rest]
    assert late == list(range(12))  # only while less than 50 ms behind; never again, across the windows


def test_drift_and_a_camera_clock_that_jumps_back_stop_rests_for_at_most_two_windows() -> None:
    camera = Camera(clock_rate=1.001)  # the camera's clock runs 1000 ppm fast: 60 ms a minute
    pacer = ReadPacer(0.25, lambda: 0.25, connected_at=0.0)
    rests = [pacer.rest_after(n * FRAME, camera.media_time(n * FRAME)) for n in range(1, 3000)]  # 2 minutes
    assert rests[-500:] == [0.25] * 500  # still taken as caught up, long after the drift passed the threshold
    camera.offset += 30  # the camera restarted its clock: every frame now looks 30 s late
    rests = [pacer.rest_after(n * FRAME, camera.media_time(n * FRAME)) for n in range(3000, 3600)]
    assert rests[0] == 0.0
    assert rests[-1] == 0.25  # within 20 s (two windows) the new lateness is the norm


def test_a_pause_limit_of_zero_never_rests() -> None:
    camera = Camera()
    pacer = ReadPacer(0.0, lambda: 1.0, connected_at=0.0)
    assert all(pacer.rest_after(n * FRAME, camera.media_time(n * FRAME)) == 0.0 for n in range(1, 500))
