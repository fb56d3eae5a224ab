"""What a player's last-seen and response-time sensors show: they move when they tell something.

Home Assistant's recorder keeps a row for every state change, ten days by default, on a host
that is often a Raspberry Pi with an SD card. A poll every minute moves a player's last answer
and the milliseconds it took every time, which says nothing new while the player keeps
answering. So, the way HA core's uptime sensors ignore jitter:

- **Last seen** is exact whenever it matters: at the poll that finds the player silent it shows
  the player's last answer, and at the poll that finds it answering again it shows that answer.
  While the player keeps answering it moves once an hour (`LAST_SEEN_STEP`), so the device page
  never calls an answering player unseen for longer than that.
- **Response time** shows the median of the answers of each ten-minute window, and moves only
  when that median leaves a band around the value shown (`RESPONSE_BAND_MS` or
  `RESPONSE_BAND_SHARE`, whichever is wider): a player that slows from 20 to 400 ms shows it
  within a window; a few milliseconds of jitter write nothing. A silent player shows none at
  once, and its first answer again at once. Long-term statistics (mean, min, max per hour)
  are kept from these values, as for any measurement.

Pure: no Home Assistant import, so scenario tables test it (tests/test_reading_rules.py).
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
import statistics

LAST_SEEN_STEP = timedelta(hours=1)
RESPONSE_WINDOW = timedelta(minutes=10)
RESPONSE_BAND_MS = 10.0
RESPONSE_BAND_SHARE = 0.25


def shown_last_seen(
    shown: datetime | None, last_seen: datetime | None, *, answered: bool, was_answering: bool
) -> datetime | None:
    """Return what the last-seen sensor shows after a poll.

    `shown` is what it showed before, `last_seen` the player's last answer (this poll's when it
    answered), `was_answering` whether it answered the poll before.
    """
    if not answered or not was_answering or shown is None or last_seen is None:
        return last_seen
    return last_seen if last_seen - shown >= LAST_SEEN_STEP else shown


@dataclass(frozen=True, slots=True)
class ResponseReading:
    """The response time a sensor shows, and the answers of the window still open."""

    shown: float | None = None
    window_opened: datetime | None = None
    answers: tuple[float, ...] = ()


def read_response(reading: ResponseReading, took_ms: float | None, at: datetime) -> ResponseReading:
    """Fold one poll's answer time (None: no proper answer) into what the sensor shows."""
    if took_ms is None:
        return ResponseReading()
    if reading.shown is None or reading.window_opened is None:
        return ResponseReading(shown=round(took_ms), window_opened=at)
    answers = (*reading.answers, took_ms)
    if at - reading.window_opened < RESPONSE_WINDOW:
        return ResponseReading(reading.shown, reading.window_opened, answers)
    median = statistics.median(answers)
    band = max(RESPONSE_BAND_MS, RESPONSE_BAND_SHARE * reading.shown)
    shown = round(median) if abs(median - reading.shown) > band else reading.shown
    return ResponseReading(shown=shown, window_opened=at)


@dataclass(frozen=True, slots=True)
class Readings:
    """What a player's two sensors show, and what the next poll needs to decide their moves."""

    last_seen: datetime | None = None
    answering: bool = False
    response: ResponseReading = ResponseReading()


def read(
    readings: Readings, last_seen: datetime | None, took_ms: float | None, at: datetime
) -> Readings:
    """Fold one poll into a player's readings; `last_seen` is its last answer (`at`: this poll)."""
    answered = last_seen is not None and last_seen == at
    return Readings(
        last_seen=shown_last_seen(
            readings.last_seen, last_seen, answered=answered, was_answering=readings.answering
        ),
        answering=answered,
        response=read_response(readings.response, took_ms, at),
    )
