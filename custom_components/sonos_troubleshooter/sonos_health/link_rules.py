"""How each player's link holds up over time: missed checks, dropouts, reboots, early warning.

Pure (no Home Assistant) so that the rules can be tested as tables of checks and polls.
Between polls the coordinator's watcher checks every player (a TCP connect, or a control
call once something failed); each check and each poll's control call is folded in here with
`checked`, and each poll adds what the household topology says with `polled`.

- A *missed check* is a check the player did not answer while it was not away on purpose.
- A *dropout* is a silence of failed checks in a row spread over at least `DROPOUT_SPAN`:
  one lost check is a lost packet, and a re-check right after a failed poll is the same
  moment, not a dropout. It counts once, from its first failed check.
- A *reboot* is the topology's `BootSeq` rising: the player started again (a power glitch, a
  crash, an update). A portable's `BootSeq` rises each time it is switched on
  (ebaauw/homebridge-zp issue 172), so a rise is no reboot when the player is a portable (a
  Roam or a Move, by its model) or the household listed it asleep or powered off since its
  `BootSeq` was last read: it was *switched on*. Its owner switched it off; nothing failed.
- A portable's silence that ends between polls is *held* until the next poll: if its
  `BootSeq` rose meanwhile, it was switched off and on, and neither the silence's checks nor
  its dropout count; otherwise they count as any player's (from the silence's first check).
  A portable's silence going on is counted once it ends, for the same reason.
- The *early warning* ("unstable connection") opens at `UNSTABLE_DROPOUTS` dropouts within
  `UNSTABLE_WINDOW` and closes once no dropout has begun for `QUIET_PERIOD`.

Silences the household explains (asleep, powered off, upgrading, on Bluetooth: its
VanishedDevices reasons) are *excused*: nothing of them counts, even the checks missed before
the topology said so, since counting waits for a poll or for the silence to end.
"""

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from .timing import CONFIRM_CHECKS, CONFIRM_SPAN

SWITCHED_OFF: frozenset[str] = frozenset({"sleeping", "powered off"})
"""VanishedDevices reasons (normalized) after which a `BootSeq` rise is the player switched on."""
PORTABLE_WORDS: frozenset[str] = frozenset({"roam", "move"})
"""Words of the model names of Sonos' portables: Roam, Roam SL, Roam 2, Move, Move 2."""

DROPOUT_SPAN = timedelta(seconds=2)
"""From the first to the last failed check of a silence that makes it a dropout."""
UNSTABLE_DROPOUTS = 3
"""Dropouts within `UNSTABLE_WINDOW` that open the early warning."""
UNSTABLE_WINDOW = timedelta(hours=1)
QUIET_PERIOD = timedelta(hours=1)
"""The early warning closes once no dropout has begun for this long (and none is going on)."""
SHARE_WINDOW = timedelta(hours=24)
"""The household's share of complete polls is taken over this long, by the hour."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Held:
    """What a portable's ended silence adds unless its `BootSeq` shows it was switched on."""

    missed: int
    dropout: datetime | None
    """When the silence began, if it is a dropout (not yet counted)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Link:
    """One player's link: counters kept across restarts, and the silence going on now."""

    missed: int = 0
    """Checks missed in all (total, only ever rises)."""
    dropouts: int = 0
    reboots: int = 0
    last_dropout: datetime | None = None
    """When the last dropout began."""
    recent_dropouts: tuple[datetime, ...] = ()
    """When the dropouts within `UNSTABLE_WINDOW` began (for the early warning and its card)."""
    boot_seq: int | None = None
    """The topology's last `BootSeq` of the player."""
    unstable_since: datetime | None = None
    """When the early warning opened; None while it is closed."""
    # The silence going on now (not stored: a restart starts afresh).
    streak: int = 0
    """Checks failed in a row up to now."""
    streak_since: datetime | None = None
    streak_last: datetime | None = None
    """The last failed check of the streak."""
    counted: int = 0
    """Checks of the streak already added to `missed`."""
    counted_dropout: bool = False
    """The streak was already counted as a dropout."""
    excused: bool = False
    """The household listed the player as away on purpose during the streak."""
    switched_off: bool = False
    """The household listed it asleep or powered off since its `BootSeq` was last read."""
    held: Held | None = None
    """A portable's silence that ended since the last poll, for the next poll to judge."""


def is_portable(model_name: str) -> bool:
    """Tell a portable (Roam, Move and their successors) by its model name."""
    return not PORTABLE_WORDS.isdisjoint(model_name.casefold().split())


def checked(
    link: Link,
    at: datetime,
    *,
    answered: bool,
    away: bool,
    switched_off: bool = False,
    portable: bool = False,
) -> Link:
    """Fold one check of the player.

    `away`: the household lists it as away on purpose; `switched_off`: asleep or powered off
    (a reason in `SWITCHED_OFF`); `portable`: a Roam or a Move (see `is_portable`).
    """
    switched_off = link.switched_off or switched_off
    if answered:
        if link.excused:
            settled = link
        elif portable and link.streak:
            settled = _hold(link)
        else:
            settled = _settled(link)
        return replace(
            settled,
            streak=0,
            streak_since=None,
            streak_last=None,
            counted=0,
            counted_dropout=False,
            excused=False,
            switched_off=switched_off,
        )
    return replace(
        link,
        streak=link.streak + 1,
        streak_since=link.streak_since or at,
        streak_last=at,
        excused=link.excused or away,
        switched_off=switched_off,
    )


def _hold(link: Link) -> Link:
    """Keep a portable's ended silence (what `_settled` would count) for the next poll.

    A silence held already (two ended before a poll) is counted first: only the last one
    before a `BootSeq` rise can have ended with the player switched on.
    """
    if link.held is not None:
        link = _release(link, link.held)
    return replace(link, held=Held(missed=link.streak - link.counted, dropout=_dropout(link)))


def _release(link: Link, held: Held) -> Link:
    """Count a held silence: its missed checks, and its dropout from its first check."""
    began = held.dropout
    return replace(
        link,
        missed=link.missed + held.missed,
        dropouts=link.dropouts + (began is not None),
        last_dropout=began if began is not None else link.last_dropout,
        recent_dropouts=(*link.recent_dropouts, began)
        if began is not None
        else link.recent_dropouts,
        held=None,
    )


def _dropout(link: Link) -> datetime | None:
    """Return when the streak began if it is a dropout not counted yet; else None."""
    start, last = link.streak_since, link.streak_last
    if link.counted_dropout or start is None or last is None or last - start < DROPOUT_SPAN:
        return None
    return start


def _settled(link: Link) -> Link:
    """Count the streak's misses so far, and its dropout once it is one."""
    began = _dropout(link)
    dropout = began is not None
    return replace(
        link,
        missed=link.missed + link.streak - link.counted,
        counted=link.streak,
        counted_dropout=link.counted_dropout or dropout,
        dropouts=link.dropouts + dropout,
        last_dropout=began if began is not None else link.last_dropout,
        recent_dropouts=(*link.recent_dropouts, began)
        if began is not None
        else link.recent_dropouts,
    )


def polled(link: Link, at: datetime, *, boot_seq: int | None, portable: bool = False) -> Link:
    """Fold what a poll adds: the counts of an unexcused silence, a reboot, the early warning.

    Call it after the poll's own check (`checked`), so that its expected absence is known.
    A portable's silence going on is left for its end (see the module's rules).
    """
    if link.streak and not link.excused and not portable:
        link = _settled(link)
    rose = boot_seq is not None and link.boot_seq is not None and boot_seq > link.boot_seq
    switched_on = rose and (portable or link.switched_off)
    if link.held is not None:
        link = replace(link, held=None) if switched_on else _release(link, link.held)
    rebooted = rose and not switched_on
    recent = tuple(start for start in link.recent_dropouts if at - start < UNSTABLE_WINDOW)
    silent = link.counted_dropout and not link.excused
    quiet = not silent and (link.last_dropout is None or at - link.last_dropout >= QUIET_PERIOD)
    unstable_since = link.unstable_since
    if unstable_since is None and len(recent) >= UNSTABLE_DROPOUTS:
        unstable_since = at
    elif unstable_since is not None and quiet:
        unstable_since = None
    return replace(
        link,
        reboots=link.reboots + rebooted,
        boot_seq=boot_seq if boot_seq is not None else link.boot_seq,
        # Read again: listed asleep from here on, it is switched on by the next rise.
        switched_off=link.switched_off and boot_seq is None,
        recent_dropouts=recent,
        unstable_since=unstable_since,
    )


def confirmation_due(link: Link, at: datetime) -> bool:
    """Tell whether a poll's control call at `at` would confirm the silence going on.

    The watcher then polls at once instead of checking again: the poll's failed control call
    is the last of the `CONFIRM_CHECKS`. An excused silence never asks for one.
    """
    return (
        not link.excused
        and link.streak >= CONFIRM_CHECKS - 1
        and link.streak_since is not None
        and at - link.streak_since >= CONFIRM_SPAN
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class HourTally:
    """The polls of one hour, and how many of them every player answered."""

    hour: datetime
    polls: int
    complete: int


def tallied(tally: tuple[HourTally, ...], at: datetime, *, complete: bool) -> tuple[HourTally, ...]:
    """Add one poll to the hourly tally, dropping hours older than `SHARE_WINDOW`."""
    hour = at.replace(minute=0, second=0, microsecond=0)
    kept = [item for item in tally if at - item.hour < SHARE_WINDOW]
    if kept and kept[-1].hour == hour:
        last = kept.pop()
        kept.append(replace(last, polls=last.polls + 1, complete=last.complete + complete))
    else:
        kept.append(HourTally(hour=hour, polls=1, complete=int(complete)))
    return tuple(kept)


def complete_share(tally: tuple[HourTally, ...], at: datetime) -> float | None:
    """Return the percentage of polls within `SHARE_WINDOW` every player answered (by hour)."""
    kept = [item for item in tally if at - item.hour < SHARE_WINDOW]
    polls = sum(item.polls for item in kept)
    return None if not polls else 100 * sum(item.complete for item in kept) / polls
