"""The aiohttp session the integration asks players over: one for Home Assistant's lifetime.

Not Home Assistant's shared session (`async_get_clientsession`): that one keeps connections
for reuse, and a player may close one after answering without saying so, which turns the
next control call into a miss of a healthy player (`player_client.new_session` says why, and
why aiohttp offers no per-request way out of its pool). This one opens a connection per
exchange and closes it after; between exchanges it holds no socket. The config flow, every
household's coordinator and its watcher share it; it is closed when Home Assistant closes.
The status page, a web server on the internet, is still read over the shared session.
"""

import aiohttp
from aiohttp import hdrs
from homeassistant.const import EVENT_HOMEASSISTANT_CLOSE
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.helpers.aiohttp_client import SERVER_SOFTWARE
from homeassistant.helpers.singleton import singleton
from homeassistant.util.hass_dict import HassKey

from .const import DOMAIN
from .sonos_health.player_client import new_session

DATA_PLAYER_SESSION: HassKey[aiohttp.ClientSession] = HassKey(f"{DOMAIN}_player_session")


@singleton(DATA_PLAYER_SESSION)
@callback
def async_get_player_session(hass: HomeAssistant) -> aiohttp.ClientSession:
    """Return the session for players, created on first use, closed with Home Assistant."""
    # Players see the User-Agent Home Assistant's own session sends.
    session = new_session(headers={hdrs.USER_AGENT: SERVER_SOFTWARE})

    async def close(_: Event) -> None:
        await session.close()

    hass.bus.async_listen_once(EVENT_HOMEASSISTANT_CLOSE, close)
    return session
