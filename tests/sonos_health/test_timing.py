"""The detection numbers add up to what the README promises (the bench measures it for real)."""

from custom_components.sonos_troubleshooter.sonos_health.timing import (
    CHECK_EVERY,
    CHECK_JITTER,
    CONFIRM_CHECKS,
    CONFIRM_SPAN,
    CONNECT_TIMEOUT,
    POLL_GAP,
    PROBE_TIMEOUT,
    RECHECK_AFTER,
)

# docs/how-it-decides.md: a player that leaves the network shows 1001 within 20 s; one that
# accepts connections and never answers, within the scan interval and 15 s.
LEAVES_WITHIN = 20.0
HANGS_WITHIN_INTERVAL_PLUS = 15.0


def test_a_player_that_leaves_is_1001_within_20_s_by_the_numbers() -> None:
    first_check = CHECK_EVERY + CHECK_JITTER + CONNECT_TIMEOUT
    recheck = RECHECK_AFTER + CONNECT_TIMEOUT
    confirming_poll = POLL_GAP + PROBE_TIMEOUT
    assert first_check + recheck + confirming_poll <= LEAVES_WITHIN
    # That chain is three failed checks (two connects, the poll's call) spread over the recheck
    # and the poll: enough to confirm, or 1001 would need more checks than the sum counts.
    assert len((first_check, recheck, confirming_poll)) >= CONFIRM_CHECKS
    assert recheck + confirming_poll >= CONFIRM_SPAN.total_seconds()


def test_a_player_that_hangs_is_1001_within_the_interval_and_15_s_by_the_numbers() -> None:
    timer_poll = PROBE_TIMEOUT
    recheck = RECHECK_AFTER + PROBE_TIMEOUT
    confirming_poll = max(POLL_GAP - (timer_poll + recheck), 0) + PROBE_TIMEOUT
    assert timer_poll + recheck + confirming_poll <= HANGS_WITHIN_INTERVAL_PLUS
