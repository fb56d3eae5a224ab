"""A repair flow driven over HTTP, as the repair dialog of the frontend drives it."""

from http import HTTPStatus
from typing import Any

from aiohttp.test_utils import TestClient
from homeassistant.core import HomeAssistant

from custom_components.sonos_troubleshooter.const import DOMAIN

FIX = "/api/repairs/issues/fix"


class Flow:
    """One repair flow, clicked through like the repair dialog does."""

    def __init__(self, hass: HomeAssistant, client: TestClient) -> None:
        self.hass = hass
        self.client = client
        self.flow_id = ""

    async def start(self, issue_id: str) -> dict[str, Any]:
        response = await self.client.post(FIX, json={"handler": DOMAIN, "issue_id": issue_id})
        assert response.status == HTTPStatus.OK, await response.text()
        result: dict[str, Any] = await response.json()
        self.flow_id = result["flow_id"]
        return result

    async def choose(self, option: str) -> dict[str, Any]:
        """Pick a menu option; a check shows progress, then the verdict once it is done."""
        response = await self.client.post(f"{FIX}/{self.flow_id}", json={"next_step_id": option})
        assert response.status == HTTPStatus.OK, await response.text()
        result: dict[str, Any] = await response.json()
        if result["type"] == "progress" and result["progress_action"] == "check":
            await self.hass.async_block_till_done()
            result = await self.reload()  # as on the progress event
        return result

    async def reload(self) -> dict[str, Any]:
        """Fetch the flow again, as the dialog does when progress is done."""
        response = await self.client.get(f"{FIX}/{self.flow_id}")
        assert response.status == HTTPStatus.OK, await response.text()
        result: dict[str, Any] = await response.json()
        return result
