"""Whether the device at a player's address is that player: when to ask, and what the answer means.

Any Sonos player answers the poll's control call (`GetVolume`), so a player that is gone
would read as answering once DHCP gave its address to another Sonos player, which happens
after outages (home-assistant/core issues 30298 and 107680). The device description names
the player that serves it (its UDN). Reading it every poll for every player would double the
requests of a healthy household, so it is read only when there is a reason to doubt:

- the player missed a check (a poll's or the watcher's) since its description last named
  it, or Home Assistant started since (an address can change hands while nobody watches);
- the topology lists another player at its address that it did not list there before;
- the hourly re-read of the description (`INFO_REFRESH`), which is made anyway.

A healthy household costs nothing more; a player that is gone costs one description read per
poll while another player holds its address, and the watcher leaves it to the polls once its
1001 is raised.

A description that names another player means this one does not answer at its address
(`ProbeFailure.ADDRESS_TAKEN`). That other player is followed to the address when it is of
the household and the topology does not place it anywhere (no topology, as large households
answer 501): it answered there in its own name. While the topology lists it, the topology
says where it is (`Household.follow`).

Pure (no Home Assistant), so the rules are tested as tables.
"""

from collections.abc import Iterable

from .player_client import ProbeFailure, TopologyMember


def listed_beside(uid: str, ip: str, members: Iterable[TopologyMember]) -> frozenset[str]:
    """Return the other players the topology lists at `ip`, the address of player `uid`."""
    return frozenset(member.uid for member in members if member.ip == ip and member.uid != uid)


def newly_beside(before: frozenset[str], now: frozenset[str]) -> bool:
    """Tell whether the topology lists a player at the address that it did not list before.

    Only a change is a reason to doubt: a player that stays listed beside another (a stale
    entry of a player that is gone) is read once, not every poll.
    """
    return bool(now - before)


def identity_verdict(uid: str, described: str) -> ProbeFailure | None:
    """Judge a device description read at player `uid`'s address that names `described`.

    None: it is the player. ADDRESS_TAKEN: another player answers there, so this one does
    not (whatever that other one answers to the control call).
    """
    return None if described == uid else ProbeFailure.ADDRESS_TAKEN


def follows_to(address: str, known_at: str | None, *, listed_by_topology: bool) -> bool:
    """Tell whether the player a description at `address` names is followed there.

    `known_at` is its address as watched (None: not a player of the household). The
    topology, when it lists the player, is what says where it is.
    """
    return known_at is not None and known_at != address and not listed_by_topology
