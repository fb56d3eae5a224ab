"""Guided fixes: the documented steps one page at a time, re-measuring after each.

A card that only lists steps is what a web page does. Here each page is one documented step
(the diagnosed cause's step first) with "Done, check again" and "Skip"; checking runs a full
poll right away (the same probes, so the verdict is the one the sensors show), and the flow
ends with a success message once the error is gone, or with the documented escalation advice
after the last step. Every text lives in the translations; this module only fills in facts.
"""

from abc import ABC, abstractmethod
import asyncio
from collections.abc import Awaitable
import contextlib
from datetime import datetime
from typing import Any

from homeassistant.components.repairs import RepairsFlow, RepairsFlowResult
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import EVENT_STATE_CHANGED
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.data_entry_flow import AbortFlow
from homeassistant.helpers import device_registry as dr, issue_registry as ir

from . import core_sonos
from .const import DOMAIN, LOGGER
from .coordinator import HouseholdSnapshot, SonosTroubleshooterCoordinator
from .issues import IssueKind
from .power_control import RefusedError, power_switches, router_entity
from .repair_facts import (
    TIME_OF_DAY,
    action_facts,
    all_players_facts,
    answering_players,
    cloud_facts,
    core_events_facts,
    core_lost_facts,
    player_facts,
    upnp_household_facts,
    when,
)
from .runtime_data import SonosTroubleshooterConfigEntry, SonosTroubleshooterData
from .sonos_health.error_catalog import PlayerCard, steps_for
from .sonos_health.error_rules import ErrorCode
from .sonos_health.power_rules import (
    POWER_OFF_SECONDS,
    ROUTER_OFF_SECONDS,
    ROUTER_START_SECONDS,
    SPEAKER_START_SECONDS,
    Action,
    ActionRecord,
    Outcome,
)
from .words import Words

# The documented steps Home Assistant can perform itself, given the entity to do it with.
STEP_ACTIONS = {"power_cycle_speaker": Action.POWER_CYCLE, "restart_router": Action.ROUTER_RESTART}
# Pages that report an action: the step id each outcome is told on.
OUTCOME_PAGES = {
    Outcome.NOT_HELPED: "{action}_not_helped",
    Outcome.FAILED: "action_failed",
    Outcome.INTERRUPTED: "action_interrupted",
}

# The repair dialog subscribes to "progress done" events only once it has drawn the progress
# page, so a check that ends sooner (a healthy household answers in milliseconds) would leave
# it spinning forever. Keeping the check on screen this long closes that race and lets the
# user see that something was measured.
CHECK_SHOWN_FOR_SECONDS = 1.5
# After a reload, core Sonos sets its speakers up and subscribes within seconds (its first
# topology event is due within 2 s); a minute leaves room for slow speakers, then we judge.
CORE_RECOVERY_WAIT = 60


class HouseholdRepairFlow(RepairsFlow, ABC):
    """What every repair flow of a household shares: where it stands, and a check on request.

    The flow ends by itself (fixed, or the entry unloaded) whenever a page is drawn, so a
    dialog left open never shows an error that is gone.
    """

    def __init__(self, entry_id: str) -> None:
        """Follow the household of one config entry."""
        self._entry_id = entry_id
        self._check: asyncio.Task[None] | None = None

    @abstractmethod
    def _is_failing(self, snapshot: HouseholdSnapshot) -> bool:
        """Tell whether the error this flow is about is still there."""

    @abstractmethod
    def _facts(self, snapshot: HouseholdSnapshot) -> dict[str, str]:
        """Return the measured facts the texts fill in."""

    @property
    def _loaded(self) -> SonosTroubleshooterData:
        """Return what the household's config entry owns; end the flow when it is not loaded.

        The flow manager turns `AbortFlow` into the abort page, whichever step raised it.
        """
        entry: SonosTroubleshooterConfigEntry | None = self.hass.config_entries.async_get_entry(
            self._entry_id
        )
        if entry is None or entry.state is not ConfigEntryState.LOADED:
            raise AbortFlow("entry_not_loaded")
        return entry.runtime_data

    def _ended(self, action: ActionRecord | None = None) -> RepairsFlowResult | None:
        """Return how the flow ends when there is nothing left to fix, else None.

        The entry may have been unloaded, or the error cleared while the flow was open.
        After an action, the success message names what Home Assistant did.
        """
        runtime = self._loaded
        snapshot = runtime.coordinator.data
        if self._is_failing(snapshot):
            return None
        if action is None:
            return self.async_create_entry(
                data={}, description="fixed", description_placeholders=self._facts(snapshot)
            )
        return self.async_create_entry(
            data={},
            description=f"fixed_{action.action}",
            description_placeholders={**self._facts(snapshot), **action_facts(action)},
        )

    async def async_step_check(self, user_input: dict[str, Any] | None = None) -> RepairsFlowResult:
        """Poll the household and the cloud now, showing progress while it runs."""
        runtime = self._loaded
        if self._check is None:
            self._check = self.hass.async_create_task(_poll_now(runtime.coordinator))
        if not self._check.done():
            return self.async_show_progress(
                step_id="check",
                progress_action="check",
                progress_task=self._check,
                description_placeholders=self._facts(runtime.coordinator.data),
            )
        self._check = None
        return self.async_show_progress_done(next_step_id="checked")

    @abstractmethod
    async def async_step_checked(
        self, user_input: dict[str, Any] | None = None
    ) -> RepairsFlowResult:
        """Say in words what the check found: fixed, or still failing and how."""

    async def async_step_finish(
        self, user_input: dict[str, Any] | None = None
    ) -> RepairsFlowResult:
        """Close the flow; the card stays and closes itself once the error clears."""
        return self.async_abort(reason="still_failing")


class GuidedFixFlow(HouseholdRepairFlow):
    """Walk through the documented steps of one error, checking again on request."""

    def __init__(self, entry_id: str) -> None:
        """Follow the household of one config entry."""
        super().__init__(entry_id)
        self._steps: tuple[str, ...] = ()
        self._position = -1  # index of the step page shown last; -1 before the first
        self._action: asyncio.Task[ActionRecord | RefusedError] | None = None
        self._report: tuple[str, dict[str, str]] = ("", {})  # the last report page shown

    # --- what each kind of issue provides ----------------------------------------------
    @abstractmethod
    def _steps_for(self, snapshot: HouseholdSnapshot) -> tuple[str, ...]:
        """Return the documented steps, the diagnosed cause's first."""

    @abstractmethod
    def _subject(self) -> str:
        """Return whom actions of this flow are for: a player uid, or the household id."""

    @abstractmethod
    def _since(self, snapshot: HouseholdSnapshot) -> datetime | None:
        """Return when the error began (actions before that were for an earlier one)."""

    def _entity_for(self, action: Action | None, runtime: SonosTroubleshooterData) -> str | None:
        """Return the entity Home Assistant would perform the action with, if it has one."""
        return router_entity(runtime.coordinator) if action is Action.ROUTER_RESTART else None

    def _can_do(self, step: str, runtime: SonosTroubleshooterData) -> bool:
        """Tell whether Home Assistant has an entity to perform this step with."""
        return self._entity_for(STEP_ACTIONS.get(step), runtime) is not None

    def _start_action(
        self, step: str, runtime: SonosTroubleshooterData
    ) -> asyncio.Task[ActionRecord]:
        """Start performing the step; the router restart is the same for every error."""
        return runtime.power_control.start_router_restart(
            self._subject(),
            self._facts(runtime.coordinator.data).get("name", runtime.coordinator.household_id),
            lambda snapshot: not self._is_failing(snapshot),
            progress=self.async_update_progress,
        )

    # --- where the flow stands --------------------------------------------------------------
    def _placeholders(self, snapshot: HouseholdSnapshot) -> dict[str, str]:
        return {
            **self._facts(snapshot),
            "step": str(self._position + 1),
            "steps": str(len(self._steps)),
            "checked_at": when(snapshot.updated_at, TIME_OF_DAY),
        }

    def _last_action(self, runtime: SonosTroubleshooterData) -> ActionRecord | None:
        """Return what Home Assistant last did about this error without fixing it."""
        since = self._since(runtime.coordinator.data)
        return runtime.action_log.last_unhelpful(self._subject(), since)

    # --- the overview and the documented steps -----------------------------------------------
    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> RepairsFlowResult:
        """Show what is wrong, why, and every step; offer the walk-through or a check."""
        if ended := self._ended():
            return ended
        snapshot = self._loaded.coordinator.data
        self._steps = self._steps_for(snapshot)
        done = self._last_action(self._loaded)
        return self.async_show_menu(
            step_id="init",
            menu_options=["start", "check", *(["last_action"] if done else [])],
            description_placeholders={
                **self._placeholders(snapshot),
                "last_action_at": when(done.started) if done else "-",
            },
        )

    async def async_step_start(self, user_input: dict[str, Any] | None = None) -> RepairsFlowResult:
        """Begin with the first step (the diagnosed cause's)."""
        self._position = -1
        return await self.async_step_next()

    async def async_step_skip(self, user_input: dict[str, Any] | None = None) -> RepairsFlowResult:
        """Go on without checking."""
        return await self.async_step_next()

    async def async_step_next(self, user_input: dict[str, Any] | None = None) -> RepairsFlowResult:
        """Show the next documented step, or the escalation advice after the last one."""
        self._position = min(self._position + 1, len(self._steps))
        return self._show_position()

    async def async_step_escalate(
        self, user_input: dict[str, Any] | None = None
    ) -> RepairsFlowResult:
        """Show the escalation advice again (the page is reloaded)."""
        self._position = len(self._steps)
        return self._show_position()

    def _show_position(self) -> RepairsFlowResult:
        """Show the step at the current position, or the escalation advice past the last."""
        if ended := self._ended():
            return ended
        runtime = self._loaded
        snapshot = runtime.coordinator.data
        if self._position == len(self._steps):
            return self.async_show_menu(
                step_id="escalate",
                menu_options=["check", "finish"],
                description_placeholders=self._placeholders(snapshot),
            )
        step = self._steps[self._position]
        return self.async_show_menu(
            step_id=step,
            menu_options=[*(["do_it"] if self._can_do(step, runtime) else []), "check", "skip"],
            description_placeholders=self._placeholders(snapshot),
        )

    def _show_step(self, step: str) -> RepairsFlowResult:
        """Show a documented step again (the flow manager calls its handler on a reload)."""
        self._position = self._steps.index(step)
        return self._show_position()

    # One handler per documented step of the catalog (tests check none is missing).
    async def async_step_power_cycle_speaker(
        self, user_input: dict[str, Any] | None = None
    ) -> RepairsFlowResult:
        """Error 1001 step 1, error 1003 step 3: unplug the speaker, wait, plug it back in."""
        return self._show_step("power_cycle_speaker")

    async def async_step_restart_router(
        self, user_input: dict[str, Any] | None = None
    ) -> RepairsFlowResult:
        """Unplug the router for 30 seconds, plug it back, wait two minutes."""
        return self._show_step("restart_router")

    async def async_step_factory_reset(
        self, user_input: dict[str, Any] | None = None
    ) -> RepairsFlowResult:
        """Error 1001: reset the speaker and set it up again."""
        return self._show_step("factory_reset")

    async def async_step_move_closer(
        self, user_input: dict[str, Any] | None = None
    ) -> RepairsFlowResult:
        """Error 1001: set the speaker up near the router."""
        return self._show_step("move_closer")

    async def async_step_enable_2_4_ghz(
        self, user_input: dict[str, Any] | None = None
    ) -> RepairsFlowResult:
        """Error 1001: make sure the network offers 2.4 GHz."""
        return self._show_step("enable_2_4_ghz")

    async def async_step_check_link_lights(
        self, user_input: dict[str, Any] | None = None
    ) -> RepairsFlowResult:
        """Error 1001 on a cable: look at the link lights of both ports."""
        return self._show_step("check_link_lights")

    async def async_step_check_switch(
        self, user_input: dict[str, Any] | None = None
    ) -> RepairsFlowResult:
        """Error 1001 on a cable: the switch or router port the cable goes into."""
        return self._show_step("check_switch")

    async def async_step_check_cable(
        self, user_input: dict[str, Any] | None = None
    ) -> RepairsFlowResult:
        """Error 1001 on a cable: plug it in again, or try another one."""
        return self._show_step("check_cable")

    async def async_step_check_status_page(
        self, user_input: dict[str, Any] | None = None
    ) -> RepairsFlowResult:
        """Error 1003: look for a Sonos outage."""
        return self._show_step("check_status_page")

    async def async_step_sign_in_again(
        self, user_input: dict[str, Any] | None = None
    ) -> RepairsFlowResult:
        """Error 1003: sign out of the Sonos account and back in."""
        return self._show_step("sign_in_again")

    async def async_step_check_firewall(
        self, user_input: dict[str, Any] | None = None
    ) -> RepairsFlowResult:
        """Error 1003: let Sonos traffic through (TCP 80, 443, 1400)."""
        return self._show_step("check_firewall")

    async def async_step_try_hotspot(
        self, user_input: dict[str, Any] | None = None
    ) -> RepairsFlowResult:
        """Error 1003: try another network to tell the router from the account."""
        return self._show_step("try_hotspot")

    async def async_step_enable_upnp(
        self, user_input: dict[str, Any] | None = None
    ) -> RepairsFlowResult:
        """UPnP off: switch it back on in the Sonos app."""
        return self._show_step("enable_upnp")

    # --- performing a step ---------------------------------------------------------------
    async def async_step_do_it(self, user_input: dict[str, Any] | None = None) -> RepairsFlowResult:
        """Perform the step on screen, showing progress until it is done and re-checked."""
        if self._action is not None and self._action.done():
            return self.async_show_progress_done(next_step_id="acted")
        runtime = self._loaded
        step = self._steps[self._position] if 0 <= self._position < len(self._steps) else ""
        action = STEP_ACTIONS.get(step)
        if self._action is None:
            if action is None or not self._can_do(step, runtime):
                return self._show_position()
            try:
                started = self._start_action(step, runtime)
            except RefusedError as refused:
                return self._show_refusal(refused)
            # In the background: the action may take minutes and must not hold up anything
            # that waits for Home Assistant's tasks to settle.
            self._action = self.hass.async_create_background_task(
                _follow(started), f"{DOMAIN} repair flow follows {action}"
            )
        return self.async_show_progress(
            step_id="do_it",
            progress_action=str(action),
            progress_task=self._action,
            description_placeholders={
                **self._facts(runtime.coordinator.data),
                "entity": self._entity_for(action, runtime) or "-",
                "off_seconds": str(POWER_OFF_SECONDS),
                "start_seconds": str(
                    SPEAKER_START_SECONDS if action is Action.POWER_CYCLE else ROUTER_START_SECONDS
                ),
                "router_off_seconds": str(ROUTER_OFF_SECONDS),
            },
        )

    async def async_step_acted(self, user_input: dict[str, Any] | None = None) -> RepairsFlowResult:
        """Say what was done and whether it helped; end the flow when it did."""
        assert self._action is not None
        result = self._action.result()
        self._action = None
        if isinstance(result, RefusedError):
            return self._show_refusal(result)
        if ended := self._ended(result):
            return ended
        return self._show_action(result)

    async def async_step_last_action(
        self, user_input: dict[str, Any] | None = None
    ) -> RepairsFlowResult:
        """Show what Home Assistant did about this error last time, and how it went."""
        if ended := self._ended():
            return ended
        record = self._last_action(self._loaded)
        if record is None:
            return await self.async_step_init()
        return self._show_action(record)

    # --- reports on an action or a refusal ----------------------------------------------
    def _show_action(self, record: ActionRecord) -> RepairsFlowResult:
        page = OUTCOME_PAGES.get(record.outcome, "{action}_not_helped").format(action=record.action)
        snapshot = self._loaded.coordinator.data
        return self._show_report(page, {**self._placeholders(snapshot), **action_facts(record)})

    def _show_refusal(self, refused: RefusedError) -> RepairsFlowResult:
        if ended := self._ended():  # a player that answers again is fixed, not refused
            return ended
        snapshot = self._loaded.coordinator.data
        return self._show_report(
            f"refused_{refused.refusal}", {**self._placeholders(snapshot), **refused.placeholders}
        )

    def _show_report(self, page: str, placeholders: dict[str, str]) -> RepairsFlowResult:
        """Show a page that reports an action or a refusal; remember it for a reload."""
        self._report = (page, placeholders)
        return self.async_show_menu(
            step_id=page, menu_options=["next", "check"], description_placeholders=placeholders
        )

    async def _async_show_last_report(
        self, user_input: dict[str, Any] | None = None
    ) -> RepairsFlowResult:
        """Show the last report page again (the flow manager calls its handler on a reload)."""
        return self._show_report(*self._report)

    # One handler per report page (tests check none is missing); a reload shows it again.
    async_step_refused_busy = _async_show_last_report
    async_step_refused_not_configured = _async_show_last_report
    async_step_refused_player_reachable = _async_show_last_report
    async_step_refused_shared_switch = _async_show_last_report
    async_step_refused_entity_unavailable = _async_show_last_report
    async_step_refused_no_network_path = _async_show_last_report
    async_step_power_cycle_not_helped = _async_show_last_report
    async_step_router_restart_not_helped = _async_show_last_report
    async_step_action_failed = _async_show_last_report
    async_step_action_interrupted = _async_show_last_report

    # --- checking again ------------------------------------------------------------------
    async def async_step_checked(
        self, user_input: dict[str, Any] | None = None
    ) -> RepairsFlowResult:
        """Say in words what the check found: fixed, or still failing and how."""
        if ended := self._ended():
            return ended
        return self.async_show_menu(
            step_id="still_failing",
            menu_options=["next", "check"],
            description_placeholders=self._placeholders(self._loaded.coordinator.data),
        )

    async_step_still_failing = async_step_checked  # the verdict page, reloaded


async def _follow(action: asyncio.Task[ActionRecord]) -> ActionRecord | RefusedError:
    """Wait for an action without owning it: closing the dialog must not stop it midway."""
    try:
        return await _on_screen(action)
    except RefusedError as refused:
        return refused


async def _poll_now(coordinator: SonosTroubleshooterCoordinator) -> None:
    # Shielded: closing the dialog cancels this task, but a poll cut short would be lost.
    await _on_screen(coordinator.async_refresh())


async def _on_screen[T](work: Awaitable[T]) -> T:
    """Wait for work without owning it, for at least CHECK_SHOWN_FOR_SECONDS (see there)."""
    result, _ = await asyncio.gather(asyncio.shield(work), asyncio.sleep(CHECK_SHOWN_FOR_SECONDS))
    return result


class PlayerFixFlow(GuidedFixFlow):
    """Error 1001 of one player."""

    def __init__(self, entry_id: str, uid: str) -> None:
        """Follow one player of the household."""
        super().__init__(entry_id)
        self._uid = uid

    def _is_failing(self, snapshot: HouseholdSnapshot) -> bool:
        player = snapshot.players.get(self._uid)
        return player is not None and player.state.code is ErrorCode.E1001

    def _steps_for(self, snapshot: HouseholdSnapshot) -> tuple[str, ...]:
        player = snapshot.players.get(self._uid)
        card = player.card if player and player.card else PlayerCard.PLAYER
        return steps_for(ErrorCode.E1001, card=card)

    def _subject(self) -> str:
        return self._uid

    def _since(self, snapshot: HouseholdSnapshot) -> datetime | None:
        player = snapshot.players.get(self._uid)
        return player.state.since if player else None

    def _entity_for(self, action: Action | None, runtime: SonosTroubleshooterData) -> str | None:
        if action is Action.POWER_CYCLE:
            return power_switches(runtime.coordinator).get(self._uid)
        return super()._entity_for(action, runtime)

    def _start_action(
        self, step: str, runtime: SonosTroubleshooterData
    ) -> asyncio.Task[ActionRecord]:
        if STEP_ACTIONS.get(step) is Action.POWER_CYCLE:
            return runtime.power_control.start_power_cycle(
                self._uid, off_seconds=POWER_OFF_SECONDS, progress=self.async_update_progress
            )
        return super()._start_action(step, runtime)

    def _facts(self, snapshot: HouseholdSnapshot) -> dict[str, str]:
        player = snapshot.players.get(self._uid)
        if player is None:  # the user deleted the player while the flow was open
            return {"name": self._uid, "address": "-"}
        return {
            **player_facts(player, snapshot, Words(self.hass)),
            "answering": answering_players(snapshot, self._uid),
        }


class AllPlayersFixFlow(GuidedFixFlow):
    """Error 1001 of every player at once: the network, not the speakers."""

    def _is_failing(self, snapshot: HouseholdSnapshot) -> bool:
        return snapshot.diagnosis.all_players_down

    def _steps_for(self, snapshot: HouseholdSnapshot) -> tuple[str, ...]:
        return steps_for(ErrorCode.E1001, all_players_down=True)

    def _subject(self) -> str:
        return f"{self._entry_id}:all_players"

    def _since(self, snapshot: HouseholdSnapshot) -> datetime | None:
        return snapshot.diagnosis.all_players_down_since

    def _facts(self, snapshot: HouseholdSnapshot) -> dict[str, str]:
        return all_players_facts(snapshot)


class CloudFixFlow(GuidedFixFlow):
    """Error 1003: players on the network, the Sonos cloud out of reach."""

    def _is_failing(self, snapshot: HouseholdSnapshot) -> bool:
        return snapshot.diagnosis.cloud.failing

    def _steps_for(self, snapshot: HouseholdSnapshot) -> tuple[str, ...]:
        return steps_for(ErrorCode.E1003, snapshot.diagnosis.cloud.cause)

    def _subject(self) -> str:
        return f"{self._entry_id}:cloud"

    def _since(self, snapshot: HouseholdSnapshot) -> datetime | None:
        return snapshot.diagnosis.cloud.since

    def _facts(self, snapshot: HouseholdSnapshot) -> dict[str, str]:
        return cloud_facts(snapshot)


class UpnpFixFlow(PlayerFixFlow):
    """A player that answers HTTP 403 while others answer: it alone refuses local control."""

    def _is_failing(self, snapshot: HouseholdSnapshot) -> bool:
        player = snapshot.players.get(self._uid)
        return player is not None and player.state.code is ErrorCode.UPNP_DISABLED

    def _steps_for(self, snapshot: HouseholdSnapshot) -> tuple[str, ...]:
        return steps_for(ErrorCode.UPNP_DISABLED)


class UpnpHouseholdFixFlow(GuidedFixFlow):
    """Every player that answers refuses with HTTP 403: the household's UPnP switch is off.

    Its one step is the app setting, once for the whole system; the check closes the flow as
    soon as players answer properly (one still refusing then gets its own card).
    """

    def _is_failing(self, snapshot: HouseholdSnapshot) -> bool:
        return snapshot.diagnosis.upnp_disabled_everywhere

    def _steps_for(self, snapshot: HouseholdSnapshot) -> tuple[str, ...]:
        return steps_for(ErrorCode.UPNP_DISABLED)

    def _subject(self) -> str:
        return f"{self._entry_id}:upnp"

    def _since(self, snapshot: HouseholdSnapshot) -> datetime | None:
        return snapshot.diagnosis.upnp_disabled_since

    def _facts(self, snapshot: HouseholdSnapshot) -> dict[str, str]:
        return upnp_household_facts(snapshot)


class CoreFixFlow(HouseholdRepairFlow):
    """HA core's Sonos integration lost a speaker that answers, or its events do not arrive.

    What Home Assistant can do is reload core's config entry, which makes core look for its
    speakers and subscribe to their events again: the documented first cure. It happens only
    when the user chooses it here. Then the flow waits for core to show the speaker again
    (or to withdraw its `subscriptions_failed` issue), polls, and says what it found; if core
    is still lost, the next page explains the next documented causes.
    """

    def __init__(self, entry_id: str, uid: str | None) -> None:
        """Follow one speaker (`uid`) core lost, or the household's events (None)."""
        super().__init__(entry_id)
        self._uid = uid
        self._work: asyncio.Task[bool] | None = None

    def _is_failing(self, snapshot: HouseholdSnapshot) -> bool:
        if self._uid is None:
            return snapshot.core.events is not None
        return self._uid in snapshot.core.lost

    def _facts(self, snapshot: HouseholdSnapshot) -> dict[str, str]:
        facts = {
            "wait": str(CORE_RECOVERY_WAIT),
            "checked_at": when(snapshot.updated_at, TIME_OF_DAY),
        }
        if self._uid is None:
            events = snapshot.core.events
            return {**facts, **(core_events_facts(snapshot, events) if events else {})}
        loss = snapshot.core.lost.get(self._uid)
        player = snapshot.players.get(self._uid)
        if loss is None or player is None:
            return {**facts, "name": player.name if player else self._uid}
        return {**facts, **core_lost_facts(snapshot, loss)}

    def _core_device(self, runtime: SonosTroubleshooterData) -> dr.DeviceEntry | None:
        """Return core's device of the speaker this flow is about (None for the events)."""
        if self._uid is None or (player := runtime.coordinator.data.players.get(self._uid)) is None:
            return None
        return core_sonos.core_device(self.hass, player)

    def _core_recovered(self, device: dr.DeviceEntry | None) -> bool:
        """Tell from core's own state whether it is fine again (before our next poll)."""
        if self._uid is None:
            return core_sonos.subscriptions_failed(self.hass) is None
        view = core_sonos.core_view(self.hass, device)
        return view is None or view.available

    def _menu(self, step_id: str, options: list[str]) -> RepairsFlowResult:
        return self.async_show_menu(
            step_id=step_id,
            menu_options=options,
            description_placeholders=self._facts(self._loaded.coordinator.data),
        )

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> RepairsFlowResult:
        """Say what core shows and what the speaker answers; offer the reload or a check."""
        if ended := self._ended():
            return ended
        return self._menu("init", ["reload", "check"])

    async def async_step_reload(
        self, user_input: dict[str, Any] | None = None
    ) -> RepairsFlowResult:
        """Reload core Sonos (the user chose it), wait for it to recover, then poll."""
        runtime = self._loaded
        if self._work is None:
            device = self._core_device(runtime)
            core_entry = core_sonos.core_entry_id(self.hass, device.id if device else None)
            if core_entry is None:
                return self.async_abort(reason="core_not_set_up")
            # In the background: a reload and its wait take up to a minute, and closing the
            # dialog must not cut a reload of another integration short.
            self._work = self.hass.async_create_background_task(
                self._reload_and_wait(runtime, core_entry, device),
                f"{DOMAIN} repair flow reloads core Sonos",
            )
        if not self._work.done():
            return self.async_show_progress(
                step_id="reload",
                progress_action="reload",
                progress_task=self._work,
                description_placeholders=self._facts(runtime.coordinator.data),
            )
        return self.async_show_progress_done(next_step_id="reloaded")

    async def _reload_and_wait(
        self, runtime: SonosTroubleshooterData, core_entry: str, device: dr.DeviceEntry | None
    ) -> bool:
        """Reload core's entry, give it `CORE_RECOVERY_WAIT` to recover, poll; tell if it did.

        Core's recovery shows as a state change of its entities or an update of its issues,
        so the wait ends the moment either says so.
        """
        recovered = asyncio.Event()

        @callback
        def look(_: Event[Any]) -> None:
            if self._core_recovered(device):
                recovered.set()

        unsubscribe = [
            self.hass.bus.async_listen(EVENT_STATE_CHANGED, look),
            self.hass.bus.async_listen(ir.EVENT_REPAIRS_ISSUE_REGISTRY_UPDATED, look),
        ]
        try:
            LOGGER.info("Reloading Home Assistant's Sonos integration, as the user asked")
            await self.hass.config_entries.async_reload(core_entry)
            if not self._core_recovered(device):
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(CORE_RECOVERY_WAIT):
                        await recovered.wait()
        finally:
            for stop in unsubscribe:
                stop()
        await _poll_now(runtime.coordinator)
        return not self._is_failing(runtime.coordinator.data)

    async def async_step_reloaded(
        self, user_input: dict[str, Any] | None = None
    ) -> RepairsFlowResult:
        """Close the card if the reload helped; else explain the next documented causes."""
        assert self._work is not None
        self._work = None
        runtime = self._loaded
        if not self._is_failing(runtime.coordinator.data):
            return self.async_create_entry(
                data={},
                description="fixed_reload",
                description_placeholders=self._facts(runtime.coordinator.data),
            )
        return self._menu("still_lost", ["reload", "check", "finish"])

    async def async_step_still_lost(
        self, user_input: dict[str, Any] | None = None
    ) -> RepairsFlowResult:
        """Show the next causes again (the page is reloaded)."""
        if ended := self._ended():
            return ended
        return self._menu("still_lost", ["reload", "check", "finish"])

    async def async_step_checked(
        self, user_input: dict[str, Any] | None = None
    ) -> RepairsFlowResult:
        """Say what the check found: fixed, or core still lost."""
        if ended := self._ended():
            return ended
        return self._menu("still_failing", ["reload", "check", "finish"])

    async_step_still_failing = async_step_checked  # the verdict page, reloaded


async def async_create_fix_flow(
    hass: HomeAssistant, issue_id: str, data: dict[str, str | int | float | None] | None
) -> RepairsFlow:
    """Start the guided fix for one of the issues `issues.py` created."""
    data = data or {}
    entry_id = str(data.get("entry_id"))
    match data.get("kind"):
        case IssueKind.PLAYER:
            return PlayerFixFlow(entry_id, str(data.get("uid")))
        case IssueKind.ALL_PLAYERS:
            return AllPlayersFixFlow(entry_id)
        case IssueKind.UPNP_DISABLED:
            return UpnpFixFlow(entry_id, str(data.get("uid")))
        case IssueKind.UPNP_HOUSEHOLD:
            return UpnpHouseholdFixFlow(entry_id)
        case IssueKind.CORE_LOST:
            return CoreFixFlow(entry_id, str(data.get("uid")))
        case IssueKind.CORE_EVENTS:
            return CoreFixFlow(entry_id, None)
        case IssueKind.CLOUD:
            return CloudFixFlow(entry_id)
        case kind:
            # Cards to read (`IssueKind.fixable`) have no flow; anything else is a mistake to
            # surface, not a card to answer with the cloud's steps.
            raise ValueError(f"No repair flow for issue {issue_id} of kind {kind!r}")
