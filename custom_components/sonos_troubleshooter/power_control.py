"""Perform the documented steps Home Assistant can reach, then re-check and record the result.

Power-cycling a player: its plug (a `switch` in the options) off, the documented wait, on, then
a poll every few seconds until the player answers or its start-up time has passed. Restarting
the router: its restart `button` pressed (or its power `switch` cycled), the documented two
minutes for it to start, then polls until the error is gone. Each action polls first, so the
rules of `power_rules.py` judge what answers right now. An action runs as a task of the config
entry, not of the repair dialog: closing the dialog must not leave a player unpowered.
"""

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from homeassistant.const import ATTR_ENTITY_ID, STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant, callback, split_entity_id
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.event import async_track_time_interval
from homeassistant.util import dt as dt_util

from .const import CONF_POWER_SWITCHES, CONF_ROUTER_ENTITY, DOMAIN, LOGGER
from .coordinator import HouseholdSnapshot, SonosTroubleshooterCoordinator
from .sonos_health.player_client import answered
from .sonos_health.power_rules import (
    RECHECK_SECONDS,
    ROUTER_OFF_SECONDS,
    ROUTER_START_SECONDS,
    SPEAKER_START_SECONDS,
    Action,
    ActionLog,
    ActionRecord,
    Outcome,
    Refusal,
    players_on_switch,
    power_cycle_refusal,
    router_restart_refusal,
)

# A switch or button call that has not returned by then has failed (its integration hangs).
CALL_TIMEOUT = 30.0
# After the router's documented start-up time, keep checking this much longer: players
# rejoin only once the router hands out addresses again.
ROUTER_GRACE_SECONDS = 60

type Progress = Callable[[float], None]


class RefusedError(HomeAssistantError):
    """The step is not performed; `refusal` says why, `placeholders` fill in its text."""

    def __init__(self, refusal: Refusal, placeholders: dict[str, str]) -> None:
        """Say why, with the facts the translated text names."""
        super().__init__(refusal)
        self.refusal = refusal
        self.placeholders = placeholders


def power_switches(coordinator: SonosTroubleshooterCoordinator) -> dict[str, str]:
    """Return the plug of each player that has one (options: player uid -> switch)."""
    return dict(coordinator.config_entry.options.get(CONF_POWER_SWITCHES, {}))


def router_entity(coordinator: SonosTroubleshooterCoordinator) -> str | None:
    """Return the router's restart button or power switch, if the user chose one."""
    entity_id: str | None = coordinator.config_entry.options.get(CONF_ROUTER_ENTITY)
    return entity_id or None


def _available(hass: HomeAssistant, entity_id: str) -> bool:
    """Tell whether a call to the entity would reach it (HA skips unavailable entities).

    `unknown` is fine: a button that was never pressed has no state yet.
    """
    state = hass.states.get(entity_id)
    return state is not None and state.state != STATE_UNAVAILABLE


class PowerControl:
    """Runs one action at a time for a household and records it in the action log."""

    def __init__(
        self,
        hass: HomeAssistant,
        coordinator: SonosTroubleshooterCoordinator,
        action_log: ActionLog,
    ) -> None:
        """Act for the household of this coordinator."""
        self.hass = hass
        self.coordinator = coordinator
        self.action_log = action_log
        self._running: asyncio.Task[ActionRecord] | None = None
        self._current: ActionRecord | None = None

    @property
    def busy(self) -> bool:
        """Tell whether an action is under way."""
        return self._running is not None and not self._running.done()

    async def async_finish_interrupted(self) -> None:
        """Close actions Home Assistant stopped in the middle of; give back power left off."""
        for record in list(self.action_log.records):
            if record.outcome is not Outcome.RUNNING:
                continue
            interrupted = await _ended(self.hass, record, Outcome.INTERRUPTED)
            LOGGER.warning(
                "%s: the %s begun at %s was interrupted by a restart",
                record.subject_name,
                record.action,
                record.started,
            )
            self.action_log.record(interrupted)

    # --- starting -----------------------------------------------------------------------
    def start_power_cycle(
        self, uid: str, *, off_seconds: int, progress: Progress | None = None
    ) -> asyncio.Task[ActionRecord]:
        """Power-cycle a player through its plug, as a task of the config entry."""
        player = self.coordinator.data.players.get(uid)
        return self._start(
            self._power_cycle(uid, off_seconds, progress), player.name if player else uid
        )

    def start_router_restart(
        self,
        subject: str,
        subject_name: str,
        is_fixed: Callable[[HouseholdSnapshot], bool],
        progress: Progress | None = None,
    ) -> asyncio.Task[ActionRecord]:
        """Restart the router, then wait for the error `is_fixed` judges to go."""
        return self._start(
            self._restart_router(subject, subject_name, is_fixed, progress), subject_name
        )

    def _start(
        self, job: Coroutine[Any, Any, ActionRecord], name: str
    ) -> asyncio.Task[ActionRecord]:
        """Run the action unless another one is under way (one at a time per household)."""
        if self.busy:
            job.close()
            raise RefusedError(Refusal.BUSY, {"name": name, "entity": "-", "others": "-"})
        self._running = self.coordinator.config_entry.async_create_background_task(
            self.hass, job, f"sonos_troubleshooter action for {name}"
        )
        return self._running

    # --- the actions --------------------------------------------------------------------
    async def _power_cycle(
        self, uid: str, off_seconds: int, progress: Progress | None
    ) -> ActionRecord:
        snapshot = await self._poll()
        player = snapshot.players.get(uid)
        name = player.name if player else uid
        switches = power_switches(self.coordinator)
        answering = {p.uid for p in snapshot.players.values() if answered(p.failure)}
        switch = switches.get(uid, "")
        refusal = power_cycle_refusal(
            uid=uid,
            switches=switches,
            answering=answering,
            switch_available=_available(self.hass, switch),
        )
        if refusal is not None:
            shared = [
                snapshot.players[other].name
                for other in players_on_switch(uid, switches)
                if other in answering
            ]
            raise RefusedError(
                refusal, {"name": name, "entity": switch, "others": ", ".join(shared) or "-"}
            )
        record = ActionRecord(
            action=Action.POWER_CYCLE,
            entity_id=switch,
            subject=uid,
            subject_name=name,
            started=dt_util.utcnow(),
        )
        planned = off_seconds + SPEAKER_START_SECONDS

        def back(snapshot: HouseholdSnapshot) -> bool:
            player = snapshot.players.get(uid)
            return player is not None and answered(player.failure)

        async def perform(record: ActionRecord) -> ActionRecord:
            record = await self._switch_off_and_on(record, switch, off_seconds)
            helped = await self._recheck(
                back, first_after=RECHECK_SECONDS, until=SPEAKER_START_SECONDS
            )
            return record.finish(Outcome.HELPED if helped else Outcome.NOT_HELPED, dt_util.utcnow())

        return await self._run(record, perform, planned, progress)

    async def _restart_router(
        self,
        subject: str,
        subject_name: str,
        is_fixed: Callable[[HouseholdSnapshot], bool],
        progress: Progress | None,
    ) -> ActionRecord:
        snapshot = await self._poll()
        entity = router_entity(self.coordinator)
        reference = snapshot.cloud.reference
        refusal = router_restart_refusal(
            entity_id=entity,
            entity_available=entity is not None and _available(self.hass, entity),
            any_player_answers=any(answered(p.failure) for p in snapshot.players.values()),
            internet_answers=any(r.connected for r in reference) if reference else None,
        )
        if refusal is not None or entity is None:
            raise RefusedError(
                refusal or Refusal.NOT_CONFIGURED,
                {"name": subject_name, "entity": entity or "-", "others": "-"},
            )
        record = ActionRecord(
            action=Action.ROUTER_RESTART,
            entity_id=entity,
            subject=subject,
            subject_name=subject_name,
            started=dt_util.utcnow(),
        )
        is_switch = split_entity_id(entity)[0] == "switch"
        planned = (ROUTER_OFF_SECONDS if is_switch else 0) + ROUTER_START_SECONDS

        async def perform(record: ActionRecord) -> ActionRecord:
            if is_switch:
                record = await self._switch_off_and_on(record, entity, ROUTER_OFF_SECONDS)
            else:
                await call(self.hass, entity, "press")
                record = self._note(replace(record, switched_on=dt_util.utcnow()))
            helped = await self._recheck(
                is_fixed,
                first_after=ROUTER_START_SECONDS,
                until=ROUTER_START_SECONDS + ROUTER_GRACE_SECONDS,
            )
            return record.finish(Outcome.HELPED if helped else Outcome.NOT_HELPED, dt_util.utcnow())

        return await self._run(record, perform, planned, progress)

    # --- shared ---------------------------------------------------------------------------
    async def _run(
        self,
        record: ActionRecord,
        perform: Callable[[ActionRecord], Awaitable[ActionRecord]],
        planned: float,
        progress: Progress | None,
    ) -> ActionRecord:
        """Perform, keep the record, and never leave power cut behind."""
        self._note(record)
        LOGGER.info("%s: %s with %s", record.subject_name, record.action, record.entity_id)
        stop_ticking = self._tick(record.started, planned, progress)
        try:
            record = self._note(await perform(record))
        except HomeAssistantError as error:
            LOGGER.warning("%s: %s failed: %s", record.subject_name, record.action, error)
            record = await self._close(Outcome.FAILED, str(error))
        except asyncio.CancelledError:  # the entry unloads, or Home Assistant stops
            await asyncio.shield(self._close(Outcome.INTERRUPTED))
            raise
        finally:
            stop_ticking()
        LOGGER.info("%s: %s ended: %s", record.subject_name, record.action, record.outcome)
        return record

    async def _switch_off_and_on(
        self, record: ActionRecord, switch: str, off_seconds: int
    ) -> ActionRecord:
        """Cut the power, wait, give it back; the record says at each moment where it stands."""
        await call(self.hass, switch, "turn_off")
        record = self._note(replace(record, switched_off=dt_util.utcnow()))
        await asyncio.sleep(off_seconds)
        await call(self.hass, switch, "turn_on")
        return self._note(replace(record, switched_on=dt_util.utcnow()))

    def _note(self, record: ActionRecord) -> ActionRecord:
        """Keep the latest state of the running action in the household's record."""
        self._current = record
        self.action_log.record(record)
        return record

    async def _close(self, outcome: Outcome, error: str | None = None) -> ActionRecord:
        """End the running action early; switch the power back on if it was left off."""
        assert self._current is not None
        return self._note(await _ended(self.hass, self._current, outcome, error))

    async def _poll(self) -> HouseholdSnapshot:
        """Poll now: every rule judges what answers at this moment, not a minute ago."""
        await self.coordinator.async_refresh()
        return self.coordinator.data

    async def _recheck(
        self, is_fixed: Callable[[HouseholdSnapshot], bool], *, first_after: int, until: int
    ) -> bool:
        """Poll every RECHECK_SECONDS from `first_after` until fixed or `until` has passed."""
        await asyncio.sleep(first_after)
        waited = first_after
        while not is_fixed(await self._poll()):
            if waited >= until:
                return False
            await asyncio.sleep(RECHECK_SECONDS)
            waited += RECHECK_SECONDS
        return True

    def _tick(
        self, started: datetime, planned: float, progress: Progress | None
    ) -> Callable[[], None]:
        """Report the share of the planned time gone by, each second, to `progress`."""
        if progress is None:
            return lambda: None

        @callback
        def tick(now: datetime) -> None:
            assert progress is not None
            progress(min((now - started).total_seconds() / planned, 0.99))

        return async_track_time_interval(self.hass, tick, timedelta(seconds=1))


async def call(hass: HomeAssistant, entity_id: str, service: str) -> None:
    """Call a switch or button service on one entity; raise HomeAssistantError if it fails."""
    try:
        async with asyncio.timeout(CALL_TIMEOUT):
            await hass.services.async_call(
                split_entity_id(entity_id)[0],
                service,
                {ATTR_ENTITY_ID: entity_id},
                blocking=True,
            )
    except TimeoutError as error:
        raise HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key="call_timed_out",
            translation_placeholders={"entity_id": entity_id, "seconds": f"{CALL_TIMEOUT:.0f}"},
        ) from error


async def restore_power(hass: HomeAssistant, record: ActionRecord) -> ActionRecord:
    """Switch a plug back on that an action left off; log loudly when even that fails."""
    try:
        await call(hass, record.entity_id, "turn_on")
    except HomeAssistantError as error:
        LOGGER.error(
            "Could not switch %s back on for %s: %s. Switch it on by hand",
            record.entity_id,
            record.subject_name,
            error,
        )
        return record
    return replace(record, switched_on=dt_util.utcnow())


async def _ended(
    hass: HomeAssistant, record: ActionRecord, outcome: Outcome, error: str | None = None
) -> ActionRecord:
    """Close an action that ended early, giving back the power it left off first."""
    if record.power_left_off:
        record = await restore_power(hass, record)
    return record.finish(outcome, dt_util.utcnow(), error)
