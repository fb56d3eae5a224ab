"""The numbers that decide how fast a silent player shows Sonos error 1001, in one place.

What the README promises (Polling), at the default settings, and how these numbers give it:

A player that leaves the network (its port stops accepting connections): 1001 within 20 s.
    the watcher's next check comes within   CHECK_EVERY + CHECK_JITTER     5 + 1 =  6 s
    which fails after at most               CONNECT_TIMEOUT                         2 s
    a recheck follows and fails after       RECHECK_AFTER + CONNECT_TIMEOUT 2 + 2 = 4 s
    two misses over CONFIRM_SPAN (4 s) need one failed control call more (CONFIRM_CHECKS,
    3): a poll at once, after at most       POLL_GAP                                4 s
    whose control call fails after          PROBE_TIMEOUT                           3 s
                                                                           at most 19 s
A player that accepts connections but never answers (only a control call finds it): 1001
within one interval and 15 s.
    the next timer poll, within             the Scan interval (DEFAULT_SCAN_INTERVAL 60 s)
    fails after                             PROBE_TIMEOUT                           3 s
    a control-call recheck fails after      RECHECK_AFTER + PROBE_TIMEOUT  2 + 3 =  5 s
    the confirming poll (the first began 8 s before: past POLL_GAP) fails after     3 s
                                                                 interval + at most 11 s
Without the watcher (polling only), FAILURES_TO_RAISE polls in a row raise it.
"""

from datetime import timedelta

PROBE_TIMEOUT = 3.0
"""Seconds one probe may take before the player counts as not answering. A poll probes every
player at once against one deadline, so it ends within about one timeout whatever fails."""

CHECK_EVERY = 5.0
"""Seconds between the watcher's checks of a player that answers, on average."""
CHECK_JITTER = 1.0
"""Each pause is CHECK_EVERY +- this, so players are not checked in step."""
RECHECK_AFTER = 2.0
"""Seconds between checks while a silence is being confirmed."""
CONNECT_TIMEOUT = 2.0
"""A connect outlasts one lost SYN (retransmitted after 1 s): a lost packet is not a miss."""

POLL_GAP = 4.0
"""A poll starts at least this long after the last one began (seconds): polls the watcher or
a guided fix asks for come between timer polls, and two polls a moment apart would count one
short dropout as two failed polls, and 1001."""

FAILURES_TO_RAISE = 2
"""Consecutive failed polls before an error is raised; one failure is often a dropped packet."""

CONFIRM_CHECKS = 3
"""Failed checks in a row (connects and control calls, the poll's own last) that confirm 1001."""
CONFIRM_SPAN = timedelta(seconds=4)
"""... spread over at least this long: a burst of lost packets is over in far less."""
