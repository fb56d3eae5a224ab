"""What the last-seen and response-time sensors show: a move only when it tells something."""

from datetime import UTC, datetime, timedelta

import pytest

from custom_components.sonos_troubleshooter.sonos_health.reading_rules import (
    LAST_SEEN_STEP,
    RESPONSE_WINDOW,
    Readings,
    ResponseReading,
    read,
    read_response,
    shown_last_seen,
)

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


@pytest.mark.parametrize(
    ("shown", "last_seen", "answered", "was_answering", "expected"),
    [
        # Answering, poll after poll: held until it is an hour behind.
        (T0, T0 + MINUTE, True, True, T0),
        (T0, T0 + LAST_SEEN_STEP - MINUTE, True, True, T0),
        (T0, T0 + LAST_SEEN_STEP, True, True, T0 + LAST_SEEN_STEP),
        # Answers stop: the exact last answer, even within the hour.
        (T0, T0 + 30 * MINUTE, False, True, T0 + 30 * MINUTE),
        # Still silent: the last answer stays.
        (T0 + 30 * MINUTE, T0 + 30 * MINUTE, False, False, T0 + 30 * MINUTE),
        # Answers again: this poll's answer at once.
        (T0 + 30 * MINUTE, T0 + 33 * MINUTE, True, False, T0 + 33 * MINUTE),
        # First poll (nothing shown yet), and a player never heard.
        (None, T0, True, False, T0),
        (None, T0, True, True, T0),
        (None, None, False, False, None),
    ],
)
def test_last_seen(
    shown: datetime | None,
    last_seen: datetime | None,
    answered: bool,
    was_answering: bool,
    expected: datetime | None,
) -> None:
    assert (
        shown_last_seen(shown, last_seen, answered=answered, was_answering=was_answering)
        == expected
    )


def responses(*answers: float | None, every: timedelta = MINUTE) -> ResponseReading:
    """Fold answer times one poll apart, from T0."""
    reading = ResponseReading()
    for number, took in enumerate(answers):
        reading = read_response(reading, took, T0 + number * every)
    return reading


def test_the_first_answer_is_shown_at_once_and_jitter_writes_nothing() -> None:
    assert responses(23.4).shown == 23
    # A window of jitter around 23 ms, and past its end: still 23.
    assert responses(23.4, 30, 18, 27, 21, 25, 19, 29, 22, 31, 20, 26).shown == 23


def test_a_slowdown_shows_when_its_window_closes() -> None:
    slow = [23.0] + [400.0] * 10  # the tenth slow answer closes the window (T0 + 10 min)
    assert responses(*slow[:-1]).shown == 23
    assert responses(*slow).shown == 400
    # The window's median, not its last answer: a single spike moves nothing.
    assert responses(23, 24, 22, 900, 23, 24, 22, 23, 24, 22, 23).shown == 23


@pytest.mark.parametrize(
    ("shown", "median", "moves"),
    [
        (20, 30, False),  # within 10 ms
        (20, 31, True),
        (200, 250, False),  # within a quarter
        (200, 251, True),
        (200, 149, True),
    ],
)
def test_the_band_is_ten_ms_or_a_quarter_whichever_is_wider(
    shown: float, median: float, moves: bool
) -> None:
    reading = responses(shown, *[median] * 10)
    assert (reading.shown == round(median)) is moves


def test_a_window_opens_again_after_it_closed() -> None:
    reading = responses(20, *[20] * 10)
    assert reading.window_opened == T0 + RESPONSE_WINDOW
    assert reading.answers == ()


def test_silence_shows_nothing_at_once_and_the_next_answer_at_once() -> None:
    assert responses(20, 21, None).shown is None
    assert responses(20, 21, None, 300).shown == 300


def test_read_folds_both_sensors_from_the_polls() -> None:
    readings = Readings()
    moments = [T0 + number * MINUTE for number in range(3)]
    readings = read(readings, moments[0], 12.0, moments[0])
    assert (readings.last_seen, readings.answering, readings.response.shown) == (T0, True, 12)
    readings = read(readings, moments[1], 13.0, moments[1])
    assert (readings.last_seen, readings.answering) == (T0, True)  # held
    # Silent at the third poll: its last answer was the second poll.
    readings = read(readings, moments[1], None, moments[2])
    assert (readings.last_seen, readings.answering, readings.response.shown) == (
        moments[1],
        False,
        None,
    )
