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
from datetime import datetime
from functools import partial
from typing import Any

from homeassistant.components.repairs import RepairsFlow, RepairsFlowResult
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util

from .const import DOMAIN
from .coordinator import HouseholdSnapshot, SonosTroubleshooterCoordinator
from .error_catalog import ERROR_1001, ERROR_1003, steps_for
from .error_rules import ErrorCode
from .issues import IssueKind, all_players_facts, answering_players, cloud_facts, player_facts, when
from .power_control import RefusedError, power_switches, router_entity
from .power_rules import (
    POWER_OFF_SECONDS,
    ROUTER_OFF_SECONDS,
    ROUTER_START_SECONDS,
    SPEAKER_START_SECONDS,
    Action,
    ActionRecord,
    Outcome,
    Refusal,
)

DOCUMENTED_STEPS = frozenset({*ERROR_1001.steps, *ERROR_1003.steps})
# The documented steps Home Assistant can perform itself, given the entity to do it with.
STEP_ACTIONS = {"power_cycle_speaker": Action.POWER_CYCLE, "restart_router": Action.ROUTER_RESTART}
# Pages that report an action: the step id each outcome is told on.
OUTCOME_PAGES = {
    Outcome.NOT_HELPED: "{action}_not_helped",
    Outcome.FAILED: "action_failed",
    Outcome.INTERRUPTED: "action_interrupted",
}
REPORT_PAGES = frozenset(
    {
        *(f"refused_{refusal}" for refusal in Refusal),
        *(f"{action}_not_helped" for action in Action),
        "action_failed",
        "action_interrupted",
    }
)

# The repair dialog subscribes to "progress done" events only once it has drawn the progress
# page, so a check that ends sooner (a healthy household answers in milliseconds) would leave
# it spinning forever. Keeping the check on screen this long closes that race and lets the
# user see that something was measured.
CHECK_SHOWN_FOR_SECONDS = 1.5


class GuidedFixFlow(RepairsFlow, ABC):
    """Walk through the documented steps of one error, checking again on request."""

    def __init__(self, entry_id: str) -> None:
        """Follow the household of one config entry."""
        self._entry_id = entry_id
        self._steps: tuple[str, ...] = ()
        self._position = -1  # index of the step page shown last; -1 before the first
        self._check: asyncio.Task[None] | None = None
        self._action: asyncio.Task[ActionRecord | RefusedError] | None = None
        self._report: tuple[str, dict[str, str]] = ("", {})  # the last report page shown

    # --- what each kind of issue provides ----------------------------------------------
    @abstractmethod
    def _is_failing(self, snapshot: HouseholdSnapshot) -> bool:
        """Tell whether the error this flow is about is still there."""

    @abstractmethod
    def _steps_for(self, snapshot: HouseholdSnapshot) -> tuple[str, ...]:
        """Return the documented steps, the diagnosed cause's first."""

    @abstractmethod
    def _facts(self, snapshot: HouseholdSnapshot) -> dict[str, str]:
        """Return the measured facts the texts fill in."""

    @abstractmethod
    def _subject(self) -> str:
        """Return whom actions of this flow are for: a player uid, or the household id."""

    @abstractmethod
    def _since(self, snapshot: HouseholdSnapshot) -> datetime | None:
        """Return when the error began (actions before that were for an earlier one)."""

    def _entity_for(
        self, action: Action | None, coordinator: SonosTroubleshooterCoordinator
    ) -> str | None:
        """Return the entity Home Assistant would perform the action with, if it has one."""
        return router_entity(coordinator) if action is Action.ROUTER_RESTART else None

    def _can_do(self, step: str, coordinator: SonosTroubleshooterCoordinator) -> bool:
        """Tell whether Home Assistant has an entity to perform this step with."""
        return self._entity_for(STEP_ACTIONS.get(step), coordinator) is not None

    def _start_action(
        self, step: str, coordinator: SonosTroubleshooterCoordinator, snapshot: HouseholdSnapshot
    ) -> asyncio.Task[ActionRecord]:
        """Start performing the step; the router restart is the same for every error."""
        return coordinator.remediator.start_router_restart(
            self._subject(),
            self._facts(snapshot).get("name", coordinator.household_id),
            lambda snapshot: not self._is_failing(snapshot),
            progress=self.async_update_progress,
        )

    # --- shared steps ------------------------------------------------------------------
    def _coordinator(self) -> SonosTroubleshooterCoordinator | None:
        entry = self.hass.config_entries.async_get_entry(self._entry_id)
        if entry is None or entry.state is not ConfigEntryState.LOADED:
            return None
        coordinator: SonosTroubleshooterCoordinator = entry.runtime_data
        return coordinator

    def _placeholders(self, snapshot: HouseholdSnapshot) -> dict[str, str]:
        return {
            **self._facts(snapshot),
            "step": str(self._position + 1),
            "steps": str(len(self._steps)),
            "checked_at": _clock(snapshot.updated_at),
        }

    def _current(self, action: ActionRecord | None = None) -> HouseholdSnapshot | RepairsFlowResult:
        """Return the latest poll, or how the flow ends when there is nothing left to fix.

        After an action, the success message names what Home Assistant did.
        """
        coordinator = self._coordinator()
        if coordinator is None:
            return self.async_abort(reason="entry_not_loaded")
        snapshot = coordinator.data
        if not self._is_failing(snapshot):
            if action is None:
                return self.async_create_entry(
                    data={}, description="fixed", description_placeholders=self._facts(snapshot)
                )
            return self.async_create_entry(
                data={},
                description=f"fixed_{action.action}",
                description_placeholders={**self._facts(snapshot), **_record_facts(action)},
            )
        return snapshot

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> RepairsFlowResult:
        """Show what is wrong, why, and every step; offer the walk-through or a check."""
        snapshot = self._current()
        if not isinstance(snapshot, HouseholdSnapshot):
            return snapshot
        self._steps = self._steps_for(snapshot)
        coordinator = self._coordinator()
        done = coordinator and coordinator.last_action(self._subject(), self._since(snapshot))
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
        return await self._async_show_position()

    async def _async_show_position(self) -> RepairsFlowResult:
        snapshot = self._current()  # the error may have cleared while the flow was open
        if not isinstance(snapshot, HouseholdSnapshot):
            return snapshot
        if self._position == len(self._steps):
            return self.async_show_menu(
                step_id="escalate",
                menu_options=["check", "finish"],
                description_placeholders=self._placeholders(snapshot),
            )
        step = self._steps[self._position]
        coordinator = self._coordinator()
        can_do = coordinator is not None and self._can_do(step, coordinator)
        return self.async_show_menu(
            step_id=step,
            menu_options=[*(["do_it"] if can_do else []), "check", "skip"],
            description_placeholders=self._placeholders(snapshot),
        )

    async def async_step_escalate(
        self, user_input: dict[str, Any] | None = None
    ) -> RepairsFlowResult:
        """Show the escalation advice again (the page is reloaded)."""
        self._position = len(self._steps)
        return await self._async_show_position()

    async def _async_step_page(
        self, step: str, user_input: dict[str, Any] | None = None
    ) -> RepairsFlowResult:
        self._position = self._steps.index(step)
        return await self._async_show_position()

    def __getattr__(self, name: str) -> Any:
        """Serve `async_step_<documented step>` and the report pages.

        The flow manager requires a handler for every step id it shows; it calls it when
        the page is reloaded. The step ids are the catalog's, so they are looked up there.
        """
        step = name.removeprefix("async_step_")
        if step != name and step in DOCUMENTED_STEPS:
            return partial(self._async_step_page, step)
        if step != name and step in REPORT_PAGES:
            return self._async_show_report
        raise AttributeError(name)

    # --- performing a step ---------------------------------------------------------------
    async def async_step_do_it(self, user_input: dict[str, Any] | None = None) -> RepairsFlowResult:
        """Perform the step on screen, showing progress until it is done and re-checked."""
        if self._action is not None and self._action.done():
            return self.async_show_progress_done(next_step_id="acted")
        coordinator = self._coordinator()
        if coordinator is None:
            return self.async_abort(reason="entry_not_loaded")
        step = self._steps[self._position] if 0 <= self._position < len(self._steps) else ""
        action = STEP_ACTIONS.get(step)
        if self._action is None:
            if action is None or not self._can_do(step, coordinator):
                return await self._async_show_position()
            try:
                started = self._start_action(step, coordinator, coordinator.data)
            except RefusedError as refused:
                return await self._async_refused(refused)
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
                **self._facts(coordinator.data),
                "entity": self._entity_for(action, coordinator) or "-",
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
            return await self._async_refused(result)
        snapshot = self._current(result)
        if not isinstance(snapshot, HouseholdSnapshot):
            return snapshot
        return self._async_report(result, snapshot)

    async def async_step_last_action(
        self, user_input: dict[str, Any] | None = None
    ) -> RepairsFlowResult:
        """Show what Home Assistant did about this error last time, and how it went."""
        snapshot = self._current()
        if not isinstance(snapshot, HouseholdSnapshot):
            return snapshot
        coordinator = self._coordinator()
        assert coordinator is not None  # _current() ended the flow otherwise
        record = coordinator.last_action(self._subject(), self._since(snapshot))
        if record is None:
            return await self.async_step_init()
        return self._async_report(record, snapshot)

    def _async_report(self, record: ActionRecord, snapshot: HouseholdSnapshot) -> RepairsFlowResult:
        page = OUTCOME_PAGES.get(record.outcome, "{action}_not_helped").format(action=record.action)
        return self._show_report(page, {**self._placeholders(snapshot), **_record_facts(record)})

    async def _async_refused(self, refused: RefusedError) -> RepairsFlowResult:
        snapshot = self._current()  # a player that answers again is fixed, not refused
        if not isinstance(snapshot, HouseholdSnapshot):
            return snapshot
        return self._show_report(
            f"refused_{refused.refusal}", {**self._placeholders(snapshot), **refused.placeholders}
        )

    def _show_report(self, page: str, placeholders: dict[str, str]) -> RepairsFlowResult:
        """Show a page that reports an action or a refusal; remember it for a reload."""
        self._report = (page, placeholders)
        return self.async_show_menu(
            step_id=page, menu_options=["next", "check"], description_placeholders=placeholders
        )

    async def _async_show_report(
        self, user_input: dict[str, Any] | None = None
    ) -> RepairsFlowResult:
        """Show the last report page again (the page is reloaded)."""
        return self._show_report(*self._report)

    async def async_step_check(self, user_input: dict[str, Any] | None = None) -> RepairsFlowResult:
        """Poll the household and the cloud now, showing progress while it runs."""
        coordinator = self._coordinator()
        if coordinator is None:
            return self.async_abort(reason="entry_not_loaded")
        if self._check is None:
            self._check = self.hass.async_create_task(_poll_now(coordinator))
        if not self._check.done():
            return self.async_show_progress(
                step_id="check",
                progress_action="check",
                progress_task=self._check,
                description_placeholders=self._facts(coordinator.data),
            )
        self._check = None
        return self.async_show_progress_done(next_step_id="checked")

    async def async_step_checked(
        self, user_input: dict[str, Any] | None = None
    ) -> RepairsFlowResult:
        """Say in words what the check found: fixed, or still failing and how."""
        snapshot = self._current()
        if not isinstance(snapshot, HouseholdSnapshot):
            return snapshot
        return self.async_show_menu(
            step_id="still_failing",
            menu_options=["next", "check"],
            description_placeholders=self._placeholders(snapshot),
        )

    async_step_still_failing = async_step_checked  # the verdict page, reloaded

    async def async_step_finish(
        self, user_input: dict[str, Any] | None = None
    ) -> RepairsFlowResult:
        """Close the flow; the card stays and closes itself once the error clears."""
        return self.async_abort(reason="still_failing")


async def _follow(action: asyncio.Task[ActionRecord]) -> ActionRecord | RefusedError:
    """Wait for an action without owning it: closing the dialog must not stop it midway."""
    try:
        return await _on_screen(action)
    except RefusedError as refused:
        return refused


def _clock(moment: datetime | None) -> str:
    """Return a moment as the local time of day, "-" when there is none."""
    return dt_util.as_local(moment).strftime("%H:%M:%S") if moment else "-"


def _record_facts(record: ActionRecord) -> dict[str, str]:
    """Return what a report page says about an action."""

    return {
        "entity": record.entity_id,
        "started_at": when(record.started),
        "off_at": _clock(record.switched_off),
        "on_at": _clock(record.switched_on),
        "finished_at": _clock(record.finished),
        "error": record.error or "-",
    }


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
        return steps_for(ErrorCode.E1001)

    def _subject(self) -> str:
        return self._uid

    def _since(self, snapshot: HouseholdSnapshot) -> datetime | None:
        player = snapshot.players.get(self._uid)
        return player.state.since if player else None

    def _entity_for(
        self, action: Action | None, coordinator: SonosTroubleshooterCoordinator
    ) -> str | None:
        if action is Action.POWER_CYCLE:
            return power_switches(coordinator).get(self._uid)
        return super()._entity_for(action, coordinator)

    def _start_action(
        self, step: str, coordinator: SonosTroubleshooterCoordinator, snapshot: HouseholdSnapshot
    ) -> asyncio.Task[ActionRecord]:
        if STEP_ACTIONS.get(step) is Action.POWER_CYCLE:
            return coordinator.remediator.start_power_cycle(
                self._uid, off_seconds=POWER_OFF_SECONDS, progress=self.async_update_progress
            )
        return super()._start_action(step, coordinator, snapshot)

    def _facts(self, snapshot: HouseholdSnapshot) -> dict[str, str]:
        player = snapshot.players.get(self._uid)
        if player is None:  # the user deleted the player while the flow was open
            return {"name": self._uid, "address": "-"}
        return {**player_facts(player), "answering": answering_players(snapshot, self._uid)}


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
        case _:
            return CloudFixFlow(entry_id)
