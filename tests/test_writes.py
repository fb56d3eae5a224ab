"""Light on a Raspberry Pi: states, the stored household and the registries change only with a fact.

End to end: real HA, real soco, the emulated household over HTTP; the clock moves a minute
between polls, as at the default interval.
"""

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import EVENT_HOMEASSISTANT_FINAL_WRITE, EVENT_STATE_CHANGED
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.helpers import device_registry as dr, entity_registry as er, storage
from homeassistant.helpers.issue_registry import EVENT_REPAIRS_ISSUE_REGISTRY_UPDATED
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from custom_components.sonos_troubleshooter.const import DOMAIN
from custom_components.sonos_troubleshooter.sonos_health import reading_rules
from custom_components.sonos_troubleshooter.sonos_health.reading_rules import (
    LAST_SEEN_STEP,
    RESPONSE_WINDOW,
)
from custom_components.sonos_troubleshooter.store import SAVE_DELAY, SAVE_GAP
from sonos_emulator import Emulator, Fault
from tests.helpers import poll, state

MINUTE = timedelta(minutes=1)


class Writes:
    """Everything the integration makes Home Assistant write, as it happens."""

    def __init__(self, hass: HomeAssistant, entry: MockConfigEntry) -> None:
        self.hass = hass
        self.entry = entry
        self.states: list[str] = []  # entity ids, one per state change
        self.issues: list[str] = []
        self.devices: list[str] = []
        self.entities: list[str] = []
        self.stored: list[str] = []  # storage keys, one per write
        self._unsubscribe: list[Callable[[], None]] = []

    @property
    def store_key(self) -> str:
        return f"{DOMAIN}.{self.entry.entry_id}"

    def ours(self) -> set[str]:
        registry = er.async_get(self.hass)
        return {
            e.entity_id for e in er.async_entries_for_config_entry(registry, self.entry.entry_id)
        }

    @callback
    def start(self) -> None:
        """Count from now on (again)."""
        self.stop()
        for counted in (self.states, self.issues, self.devices, self.entities, self.stored):
            counted.clear()
        entities = self.ours()
        bus = self.hass.bus

        @callback
        def state_changed(event: Event[Any]) -> None:
            if event.data["entity_id"] in entities and not token_renewed(event):
                self.states.append(event.data["entity_id"])

        self._unsubscribe = [
            bus.async_listen(EVENT_STATE_CHANGED, state_changed),
            bus.async_listen(
                EVENT_REPAIRS_ISSUE_REGISTRY_UPDATED,
                lambda event: self.issues.append(event.data["issue_id"]),
            ),
            bus.async_listen(
                dr.EVENT_DEVICE_REGISTRY_UPDATED,
                lambda event: self.devices.append(event.data["device_id"]),
            ),
            bus.async_listen(
                er.EVENT_ENTITY_REGISTRY_UPDATED,
                lambda event: self.entities.append(event.data["entity_id"]),
            ),
        ]

    def stop(self) -> None:
        for unsubscribe in self._unsubscribe:
            unsubscribe()

    def ours_stored(self) -> int:
        return self.stored.count(self.store_key)


def token_renewed(event: Event[Any]) -> bool:
    """Tell a state change that only renews an image's access token (every 5 minutes).

    Home Assistant's image component does that for every image entity (the household map
    too); the recorder leaves the token out, and the integration has no say in it.
    """
    old, new = event.data["old_state"], event.data["new_state"]
    if old is None or new is None or old.state != new.state:
        return False
    renewed = {"access_token", "entity_picture"}
    return {k: v for k, v in old.attributes.items() if k not in renewed} == {
        k: v for k, v in new.attributes.items() if k not in renewed
    }


@pytest.fixture
def config_entry(config_entry: MockConfigEntry) -> MockConfigEntry:
    """The entry, its timer off: these tests poll every minute themselves.

    Firing the clock forward (for the delayed writes) while a timer's poll were under way
    would end its requests early.
    """
    return MockConfigEntry(
        domain=DOMAIN,
        title=config_entry.title,
        unique_id=config_entry.unique_id,
        data=config_entry.data,
        options=config_entry.options,
        pref_disable_polling=True,
    )


@pytest.fixture
def writes(hass: HomeAssistant, config_entry: MockConfigEntry) -> Iterator[Writes]:
    """Count state changes, registry updates and storage writes (the test starts counting)."""
    counted = Writes(hass, config_entry)
    write_data = storage.Store._async_write_data  # hass_storage's own stand-in

    async def counting(store: storage.Store[Any], data: dict[str, Any]) -> None:
        counted.stored.append(store.key)
        await write_data(store, data)

    with patch.object(storage.Store, "_async_write_data", counting):
        yield counted
    counted.stop()


async def time_passes(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, delta: timedelta
) -> None:
    """Let `delta` pass: what falls due within it (a delayed write) runs, then the clock moves."""
    async_fire_time_changed(hass, dt_util.utcnow() + delta)
    await hass.async_block_till_done()
    freezer.tick(delta)


async def minutes_of_polls(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, entry: MockConfigEntry, count: int
) -> None:
    """A minute passes, then a poll, `count` times (the default interval)."""
    for _ in range(count):
        await time_passes(hass, freezer, MINUTE)
        await poll(hass, entry)


async def settle(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, entry: MockConfigEntry
) -> None:
    """Poll past the first response-time window and let the writes it led to happen."""
    await minutes_of_polls(hass, freezer, entry, RESPONSE_WINDOW // MINUTE + 2)
    await time_passes(hass, freezer, timedelta(seconds=SAVE_GAP))


async def test_a_steady_household_writes_nothing(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    writes: Writes,
    setup_entry: MockConfigEntry,
) -> None:
    """Forty minutes of polls where nothing happens: no state, no store, no registry write."""
    await settle(hass, freezer, setup_entry)
    writes.start()
    await minutes_of_polls(hass, freezer, setup_entry, 40)
    assert (writes.states, writes.issues, writes.devices, writes.entities) == ([], [], [], [])
    assert writes.ours_stored() == 0
    # It was polled: the error code sensors were reported every minute, unchanged.
    reported = hass.states.get("sensor.kitchen_error_code")
    assert reported is not None
    assert reported.last_reported == dt_util.utcnow()
    assert reported.last_changed < dt_util.utcnow() - 39 * MINUTE


async def test_an_outage_going_on_updates_no_card(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    writes: Writes,
    setup_entry: MockConfigEntry,
    household: Emulator,
) -> None:
    """Once a player's 1001 is shown, more silent polls update neither its card nor its device."""
    await settle(hass, freezer, setup_entry)
    household.household.set_fault("Kitchen", Fault.OFFLINE)
    await minutes_of_polls(hass, freezer, setup_entry, 3)
    assert state(hass, "sensor.kitchen_error_code") == "1001"
    writes.start()
    await minutes_of_polls(hass, freezer, setup_entry, 10)
    assert (writes.issues, writes.devices, writes.entities) == ([], [], [])
    # What moves is the count of its missed checks and the share of complete polls.
    assert set(writes.states) == {
        "sensor.kitchen_missed_checks",
        "sensor.sonos_household_complete_polls",
    }


async def test_last_seen_moves_hourly_and_exactly_when_answers_stop_or_resume(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    writes: Writes,
    setup_entry: MockConfigEntry,
    household: Emulator,
) -> None:
    await settle(hass, freezer, setup_entry)
    first = dt_util.parse_datetime(state(hass, "sensor.kitchen_last_seen"))
    assert first is not None
    writes.start()
    # Within the hour of what it shows, nothing; then one move to the poll's answer.
    while dt_util.utcnow() + MINUTE - first < LAST_SEEN_STEP:
        await minutes_of_polls(hass, freezer, setup_entry, 1)
    assert writes.states.count("sensor.kitchen_last_seen") == 0
    await minutes_of_polls(hass, freezer, setup_entry, 1)
    assert writes.states.count("sensor.kitchen_last_seen") == 1
    assert state(hass, "sensor.kitchen_last_seen") == shown(dt_util.utcnow())

    # A few minutes on, it stops answering: its last answer shows, to the poll.
    await minutes_of_polls(hass, freezer, setup_entry, 5)
    last_answer = dt_util.utcnow()
    household.household.set_fault("Kitchen", Fault.OFFLINE)
    await minutes_of_polls(hass, freezer, setup_entry, 3)
    assert state(hass, "sensor.kitchen_last_seen") == shown(last_answer)
    assert state(hass, "sensor.kitchen_response_time") == "unknown"
    household.household.heal("Kitchen")
    await minutes_of_polls(hass, freezer, setup_entry, 1)
    assert state(hass, "sensor.kitchen_last_seen") == shown(dt_util.utcnow())
    assert state(hass, "sensor.kitchen_response_time") != "unknown"


async def test_a_slower_player_shows_when_its_window_closes(
    writes: Writes, hass: HomeAssistant, setup_entry: MockConfigEntry, household: Emulator
) -> None:
    """A player that answers 250 ms later shows it once, when the window closes.

    On the real clock (a frozen one would time every answer 0 ms), with a window of a second.
    """
    window = timedelta(seconds=1)
    with patch.object(reading_rules, "RESPONSE_WINDOW", window):
        await poll(hass, setup_entry, 2)
        household.household.set_fault("Kitchen", Fault.SLOW, delay=0.25)
        writes.start()
        began = dt_util.utcnow()
        await poll(hass, setup_entry)
        assert writes.states.count("sensor.kitchen_response_time") == 0
        while dt_util.utcnow() - began < 2 * window:
            await poll(hass, setup_entry)
    assert writes.states.count("sensor.kitchen_response_time") == 1
    assert float(state(hass, "sensor.kitchen_response_time")) >= 250
    # Nothing else of Kitchen (the others' first answers may settle on this real clock).
    assert {e for e in writes.states if e.startswith("sensor.kitchen")} == {
        "sensor.kitchen_response_time"
    }


async def test_a_move_a_reboot_and_a_newcomer_write_what_they_change(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    writes: Writes,
    setup_entry: MockConfigEntry,
    household: Emulator,
    hass_storage: dict[str, Any],
) -> None:
    """Each is one state (or the newcomer's entities) and one write of the household."""
    await settle(hass, freezer, setup_entry)
    writes.start()
    moved = household.household.move("Roam")
    await minutes_of_polls(hass, freezer, setup_entry, 2)
    assert writes.states == ["sensor.roam_ip_address"]
    assert writes.ours_stored() == 1
    assert {p["name"]: p["ip"] for p in stored_players(hass_storage, writes)}["Roam"] == moved.ip

    writes.start()
    household.household.reboot("Kitchen")
    await minutes_of_polls(hass, freezer, setup_entry, 2)
    assert writes.states == ["sensor.kitchen_reboots"]
    assert writes.ours_stored() == 1

    writes.start()
    household.household.add_player("Office", model_name="Sonos Era 100", model_number="S39")
    await minutes_of_polls(hass, freezer, setup_entry, 2)
    # The others' states stay (the newcomer's entities are new); the map draws its room.
    assert writes.states == ["image.sonos_household_map"]
    assert state(hass, "sensor.office_error_code") == "ok"
    assert writes.ours_stored() == 1
    assert "Office" in {p["name"] for p in stored_players(hass_storage, writes)}
    assert writes.issues == []


def stored_players(hass_storage: dict[str, Any], writes: Writes) -> list[dict[str, Any]]:
    players: list[dict[str, Any]] = hass_storage[writes.store_key]["data"]["players"]
    return players


async def test_a_change_is_stored_at_once_and_at_most_once_a_minute(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    writes: Writes,
    setup_entry: MockConfigEntry,
    household: Emulator,
    hass_storage: dict[str, Any],
) -> None:
    await settle(hass, freezer, setup_entry)
    writes.start()
    household.household.set_fault("Kitchen", Fault.OFFLINE)
    await poll(hass, setup_entry)  # its first missed poll: a counter moved
    await time_passes(hass, freezer, timedelta(seconds=SAVE_DELAY))
    assert writes.ours_stored() == 1
    stored = hass_storage[writes.store_key]["data"]
    assert stored["diagnosis"]["players"][uid_of(household, "Kitchen")]["failures"] == 1

    # Ten seconds on, its second: 1001 began. Written a minute after the first write.
    freezer.tick(timedelta(seconds=10))
    await poll(hass, setup_entry)
    assert state(hass, "sensor.kitchen_error_code") == "1001"
    await time_passes(hass, freezer, timedelta(seconds=SAVE_GAP - SAVE_DELAY - 10 - 1))
    assert writes.ours_stored() == 1
    await time_passes(hass, freezer, timedelta(seconds=2))
    assert writes.ours_stored() == 2
    stored = hass_storage[writes.store_key]["data"]
    assert stored["diagnosis"]["players"][uid_of(household, "Kitchen")]["code"] == "1001"


async def test_a_restart_after_changes_loses_nothing(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    writes: Writes,
    setup_entry: MockConfigEntry,
    hass_storage: dict[str, Any],
) -> None:
    """What moves with time alone waits for shutdown; the restart reads it all back."""
    await settle(hass, freezer, setup_entry)
    writes.start()
    await minutes_of_polls(hass, freezer, setup_entry, 5)
    assert writes.ours_stored() == 0
    last_poll = dt_util.utcnow()
    polls = sum(hour.polls for hour in setup_entry.runtime_data.coordinator.household.tally)

    hass.bus.async_fire(EVENT_HOMEASSISTANT_FINAL_WRITE)
    await hass.async_block_till_done()
    assert writes.ours_stored() == 1
    stored = hass_storage[writes.store_key]["data"]
    assert sum(hour["polls"] for hour in stored["polls"]) == polls
    assert {datetime.fromisoformat(p["last_seen"]) for p in stored["players"]} == {last_poll}
    # Unloading with nothing new to write writes nothing.
    assert await hass.config_entries.async_unload(setup_entry.entry_id)
    assert writes.ours_stored() == 1

    assert await hass.config_entries.async_setup(setup_entry.entry_id)
    await hass.async_block_till_done()
    household_model = setup_entry.runtime_data.coordinator.household
    assert sum(hour.polls for hour in household_model.tally) == polls + 1  # setup's poll
    assert state(hass, "sensor.kitchen_last_seen") == shown(dt_util.utcnow())


def shown(moment: datetime) -> str:
    """Return a moment as a timestamp sensor's state shows it (to the second)."""
    return moment.isoformat(timespec="seconds")


def uid_of(emulator: Emulator, name: str) -> str:
    return emulator.household.player(name).uid
