"""The documented Sonos errors this integration diagnoses: the single source of truth.

Codes, severities, the measured causes and fix steps (as keys, in the documented order) live
here; their words live in strings.json and translations under the same keys. Entities,
repair issues and the README all follow this table. Pure: no Home Assistant imports.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from .error_rules import CloudCause, DiagnosisState, ErrorCode, PlayerState
from .player_client import Uplink


class Severity(StrEnum):
    """Severity as the Sonos documentation rates each error."""

    MODERATE = "moderate"
    MINOR = "minor"


@dataclass(frozen=True, slots=True, kw_only=True)
class CatalogEntry:
    """One documented error."""

    code: ErrorCode
    severity: Severity
    steps: tuple[str, ...]  # documented fix steps, in the documentation's order


ERROR_1001 = CatalogEntry(
    code=ErrorCode.E1001,
    severity=Severity.MODERATE,
    steps=(
        "power_cycle_speaker",
        "restart_router",
        "factory_reset",
        "move_closer",
        "enable_2_4_ghz",
    ),
)

ERROR_1003 = CatalogEntry(
    code=ErrorCode.E1003,
    severity=Severity.MINOR,
    steps=(
        "check_status_page",
        "restart_router",
        "power_cycle_speaker",
        "sign_in_again",
        "check_firewall",
        "try_hotspot",
    ),
)

CATALOG: dict[ErrorCode, CatalogEntry] = {entry.code: entry for entry in (ERROR_1001, ERROR_1003)}

# The documented step that addresses a measured cause; it is shown first.
FIRST_STEP: dict[CloudCause, str] = {
    CloudCause.SONOS_OUTAGE: "check_status_page",
    CloudCause.INTERNET_DOWN: "restart_router",  # router restart re-establishes the ISP link
    CloudCause.DNS_FAILURE: "restart_router",  # ... and refreshes DNS caches
    CloudCause.PORTS_BLOCKED: "check_firewall",
}
# UPnP switched off is no documented Sonos error (no severity of Sonos'); its one step is
# switching it back on in the Sonos app.
UPNP_STEPS: tuple[str, ...] = ("enable_upnp",)
# When every player is unreachable at once the router (or HA's own network) is the suspect.
FIRST_STEP_ALL_PLAYERS_DOWN = "restart_router"
# The documented steps about a radio link: the distance to the router and its bands. They do
# not apply to a player on a cable, nor (the band) to a satellite on its soundbar's own link.
RADIO_STEPS: tuple[str, ...] = ("move_closer", "enable_2_4_ghz")
# What fails on a cable, before the documented steps that still apply (the power cycle, the
# router restart, the factory reset): the link lights of the ports, the switch or router
# port, the cable itself. Sonos' 1001 page is written for Wi-Fi and names none of them.
CABLE_STEPS: tuple[str, ...] = ("check_link_lights", "check_switch", "check_cable")
# A connection that comes and goes (the early warning) fits the documented causes of 1001
# that weaken a link rather than cut it: on the air distance and the band; on a cable a loose
# or damaged cable, or a port that keeps dropping the link. Their steps, in order. A
# satellite's card says what helps it in its own words (within reach of its main unit).
UNSTABLE_STEPS: dict[Uplink, tuple[str, ...]] = {
    Uplink.WIFI: RADIO_STEPS,
    Uplink.ETHERNET: ("check_cable", "check_switch"),
    Uplink.MAIN_UNIT: (),
}
# The early warning's card for each way a player reaches the network (translation keys).
UNSTABLE_CARDS: dict[Uplink, str] = {
    Uplink.WIFI: "unstable_connection",
    Uplink.ETHERNET: "unstable_connection_wired",
    Uplink.MAIN_UNIT: "unstable_connection_satellite",
}


class PlayerCard(StrEnum):
    """The 1001 card of one player, by what the player is to its room (translation keys).

    Each card but a satellite's has a variant for a player on a cable (`_wired`): its steps
    start with the cable and leave out the radio's (`steps_for`), and its words say no Wi-Fi.
    """

    PLAYER = "error_1001"
    HOME_THEATRE = "error_1001_home_theatre"  # a main unit, its satellites silent with it
    SATELLITE = "error_1001_satellite"  # a Sub or rear of a home theatre, alone
    PAIR = "error_1001_pair"  # a speaker of a stereo pair (or a Sub bonded to one)
    NETWORK_DEVICE = "error_1001_network_device"  # a BOOST or Bridge
    PLAYER_WIRED = "error_1001_wired"
    HOME_THEATRE_WIRED = "error_1001_home_theatre_wired"
    PAIR_WIRED = "error_1001_pair_wired"
    NETWORK_DEVICE_WIRED = "error_1001_network_device_wired"

    @property
    def wired(self) -> bool:
        """True for the variant of a player on a cable."""
        return self.value.endswith("_wired")

    @property
    def bond(self) -> PlayerCard:
        """The card this one is a variant of (itself for a card on the air)."""
        return PlayerCard(self.value.removesuffix("_wired"))

    def on_cable(self) -> PlayerCard:
        """Return the variant for a player on a cable (a satellite has none: see `Household.uplink`)."""
        return self if self is PlayerCard.SATELLITE else PlayerCard(f"{self.bond}_wired")


# A satellite reaches the network through its main unit, not the router: what helps it first
# is a power cycle and staying in range of the main unit (the documented "move closer" step,
# here to the soundbar); the router comes last. The 2.4 GHz step is left out: its link to
# the soundbar is its own (5660 MHz in a 94.1 capture), not the router's bands.
FIRST_STEPS_SATELLITE = ("power_cycle_speaker", "move_closer", "factory_reset")


def ordered_steps(entry: CatalogEntry, *first: str) -> tuple[str, ...]:
    """Return the documented steps with `first` moved to the front, the rest in order."""
    ahead = tuple(step for step in first if step in entry.steps)
    return (*ahead, *(step for step in entry.steps if step not in ahead))


def steps_for(
    code: ErrorCode,
    cause: CloudCause | None = None,
    *,
    all_players_down: bool = False,
    card: PlayerCard = PlayerCard.PLAYER,
) -> tuple[str, ...]:
    """Return the steps to try for a diagnosed error, most likely to help first."""
    if code is ErrorCode.E1001:
        if all_players_down:
            return ordered_steps(ERROR_1001, FIRST_STEP_ALL_PLAYERS_DOWN)
        if card is PlayerCard.SATELLITE:
            steps = ordered_steps(ERROR_1001, *FIRST_STEPS_SATELLITE)
            return tuple(step for step in steps if step != "enable_2_4_ghz")
        if card.wired:
            kept = (step for step in ERROR_1001.steps if step not in RADIO_STEPS)
            return (*CABLE_STEPS, *kept)
        return ERROR_1001.steps
    if code is ErrorCode.E1003:
        return ordered_steps(ERROR_1003, *([FIRST_STEP[cause]] if cause else []))
    if code is ErrorCode.UPNP_DISABLED:
        return UPNP_STEPS
    return ()


# "If the error persists for more than 24 hours ... contact Sonos Support": past this, a 1003
# card is escalated (higher severity, wording that says to call support).
ESCALATE_1003_AFTER = timedelta(hours=24)


def is_escalated(since: datetime | None, now: datetime) -> bool:
    """Tell whether a 1003 that began at `since` has lasted past the documented 24 hours."""
    return since is not None and now - since > ESCALATE_1003_AFTER


def error_summary(
    state: PlayerState,
    diagnosis: DiagnosisState,
    *,
    card: PlayerCard = PlayerCard.PLAYER,
    main_unit_down: bool = False,
    address_taken: bool = False,
) -> dict[str, str | None]:
    """Return cause, since, severity and first fix step of a player's error (None when ok).

    What the error entities show, so automations can act on the cause without reading cards.
    A satellite silent because its main unit is down has that as its cause; a player whose
    address answers as another player (`address_taken`: DHCP gave it away), that.
    """
    entry = CATALOG.get(state.code)
    cause: str | None = None
    if state.code is ErrorCode.E1003:
        cause = diagnosis.cloud.cause
    elif state.code is ErrorCode.E1001 and diagnosis.all_players_down:
        cause = "all_players_unreachable"
    elif state.code is ErrorCode.E1001 and main_unit_down:
        cause = "main_unit_unreachable"
    elif state.code is ErrorCode.E1001 and address_taken:
        cause = "address_taken"
    steps = steps_for(
        state.code,
        diagnosis.cloud.cause,
        all_players_down=diagnosis.all_players_down,
        card=card,
    )
    return {
        "cause": cause,
        "since": state.since.isoformat() if state.since else None,
        "severity": str(entry.severity) if entry else None,
        "first_step": steps[0] if steps else None,
    }
