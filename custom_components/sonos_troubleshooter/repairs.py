"""Guided fixes: the documented steps one page at a time, re-measuring after each.

A card that only lists steps is what a web page does. Here each page is one documented step
(the diagnosed cause's step first) with "Done, check again" and "Skip"; checking runs a full
poll right away (the same probes, so the verdict is the one the sensors show), and the flow
ends with a success message once the error is gone, or with the documented escalation advice
after the last step. Every text lives in the translations; this module only fills in facts.
"""

from abc import ABC, abstractmethod
import asyncio
from functools import partial
from typing import Any

from homeassistant.components.repairs import RepairsFlow, RepairsFlowResult
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util

from .catalog import ERROR_1001, ERROR_1003, steps_for
from .coordinator import HouseholdSnapshot, SonosTroubleshooterCoordinator
from .diagnosis import ErrorCode
from .issues import IssueKind, all_players_facts, cloud_facts, player_facts

DOCUMENTED_STEPS = frozenset({*ERROR_1001.steps, *ERROR_1003.steps})

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
            "checked_at": dt_util.as_local(snapshot.updated_at).strftime("%H:%M:%S"),
        }

    def _current(self) -> HouseholdSnapshot | RepairsFlowResult:
        """Return the latest poll, or how the flow ends when there is nothing left to fix."""
        coordinator = self._coordinator()
        if coordinator is None:
            return self.async_abort(reason="entry_not_loaded")
        snapshot = coordinator.data
        if not self._is_failing(snapshot):
            return self.async_create_entry(
                data={}, description="fixed", description_placeholders=self._facts(snapshot)
            )
        return snapshot

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> RepairsFlowResult:
        """Show what is wrong, why, and every step; offer the walk-through or a check."""
        snapshot = self._current()
        if not isinstance(snapshot, HouseholdSnapshot):
            return snapshot
        self._steps = self._steps_for(snapshot)
        return self.async_show_menu(
            step_id="init",
            menu_options=["start", "check"],
            description_placeholders=self._placeholders(snapshot),
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
        return self.async_show_menu(
            step_id=self._steps[self._position],
            menu_options=["check", "skip"],
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
        """Serve `async_step_<documented step>`: each step page is a step of this flow.

        The flow manager requires a handler for every step id it shows; it calls it when
        the page is reloaded. The step ids are the catalog's, so they are looked up there.
        """
        step = name.removeprefix("async_step_")
        if step != name and step in DOCUMENTED_STEPS:
            return partial(self._async_step_page, step)
        raise AttributeError(name)

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


async def _poll_now(coordinator: SonosTroubleshooterCoordinator) -> None:
    # Shielded: closing the dialog cancels this task, but a poll cut short would be lost.
    await asyncio.gather(
        asyncio.shield(coordinator.async_refresh()), asyncio.sleep(CHECK_SHOWN_FOR_SECONDS)
    )


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

    def _facts(self, snapshot: HouseholdSnapshot) -> dict[str, str]:
        player = snapshot.players.get(self._uid)
        if player is None:  # the user deleted the player while the flow was open
            return {"name": self._uid, "address": "-"}
        return player_facts(player)


class AllPlayersFixFlow(GuidedFixFlow):
    """Error 1001 of every player at once: the network, not the speakers."""

    def _is_failing(self, snapshot: HouseholdSnapshot) -> bool:
        return snapshot.diagnosis.all_players_down

    def _steps_for(self, snapshot: HouseholdSnapshot) -> tuple[str, ...]:
        return steps_for(ErrorCode.E1001, all_players_down=True)

    def _facts(self, snapshot: HouseholdSnapshot) -> dict[str, str]:
        return all_players_facts(snapshot)


class CloudFixFlow(GuidedFixFlow):
    """Error 1003: players on the network, the Sonos cloud out of reach."""

    def _is_failing(self, snapshot: HouseholdSnapshot) -> bool:
        return snapshot.diagnosis.cloud.failing

    def _steps_for(self, snapshot: HouseholdSnapshot) -> tuple[str, ...]:
        return steps_for(ErrorCode.E1003, snapshot.diagnosis.cloud.cause)

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
