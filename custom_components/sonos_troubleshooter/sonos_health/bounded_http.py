"""Reading an HTTP answer without letting the other end decide how much we hold.

Shared by the player and cloud clients (aiohttp, no Home Assistant imports). The caller bounds
the time (`asyncio.timeout` around the whole exchange); this bounds the memory: a body is read
chunk by chunk and refused as soon as it passes a fixed cap, whether it comes with a
Content-Length or chunked, and a gzip or deflate body is decompressed here, with the cap
applied to what it expands to, as it expands (aiohttp's own decompression is switched off per
request: it would inflate a whole chunk before anyone could count it).
"""

from typing import Final
import zlib

import aiohttp
from multidict import CIMultiDictProxy

# Ask for the body as it is; a device that compresses anyway is decoded below, under the cap.
REQUEST_HEADERS: Final = {"Accept-Encoding": "identity"}
_GZIP_WBITS: Final = 16 + zlib.MAX_WBITS
_ZLIB_WBITS: Final = zlib.MAX_WBITS
_RAW_DEFLATE_WBITS: Final = -zlib.MAX_WBITS


class RefusedAnswerError(Exception):
    """The answer is not read any further: too large, or encoded in a way we do not read."""


class _Decoder:
    """Turns the bytes on the wire into the body, never producing more than `room` at once."""

    def __init__(self, encoding: str) -> None:
        self._encoding = encoding
        self._inflater: zlib._Decompress | None = None
        if encoding == "gzip":
            self._inflater = zlib.decompressobj(_GZIP_WBITS)

    def feed(self, data: bytes, room: int) -> bytes:
        """Decode `data`; raise RefusedAnswerError once the output would pass `room` bytes."""
        if self._encoding == "identity":
            if len(data) > room:
                raise RefusedAnswerError("answer larger than the cap")
            return data
        if self._inflater is None:  # deflate: zlib-wrapped as the RFC says, or raw as some send
            zlib_header = (
                len(data) >= 2 and data[0] & 0x0F == 8 and (data[0] << 8 | data[1]) % 31 == 0
            )
            self._inflater = zlib.decompressobj(_ZLIB_WBITS if zlib_header else _RAW_DEFLATE_WBITS)
        try:
            out = self._inflater.decompress(data, room + 1)
        except zlib.error as error:
            raise RefusedAnswerError(f"bad {self._encoding} data ({error})") from error
        if len(out) > room or self._inflater.unconsumed_tail:
            raise RefusedAnswerError(f"{self._encoding} answer expands past the cap")
        return out

    def finish(self) -> None:
        """Refuse a compressed body that ended before its compressed stream did."""
        if self._encoding != "identity" and (self._inflater is None or not self._inflater.eof):
            raise RefusedAnswerError(f"truncated {self._encoding} answer")


def _encoding(headers: CIMultiDictProxy[str]) -> str:
    encoding = headers.get("Content-Encoding", "identity").strip().lower()
    if encoding == "x-gzip":
        return "gzip"
    if encoding not in ("identity", "gzip", "deflate"):
        raise RefusedAnswerError(f"unsupported Content-Encoding {encoding!r}")
    return encoding


async def read_capped(response: aiohttp.ClientResponse, cap: int) -> bytes:
    """Read the whole body of `response`, refusing it once it (decoded) passes `cap` bytes.

    A Content-Length over the cap is refused before a byte of the body is read. The caller
    closes the response, which closes the connection of a refused answer.
    """
    decoder = _Decoder(_encoding(response.headers))
    length = response.headers.get("Content-Length")
    if length is not None and (not length.strip().isdigit() or int(length) > cap):
        raise RefusedAnswerError(f"Content-Length {length[:20]!r} over the cap")
    body = bytearray()
    while chunk := await response.content.readany():
        body += decoder.feed(chunk, cap - len(body))
    decoder.finish()
    return bytes(body)
