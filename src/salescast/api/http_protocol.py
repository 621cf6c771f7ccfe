"""uvicorn's HTTP protocol with deadlines for slow clients and JSON answers to malformed requests.

uvicorn bounds only the idle time *between* requests (``timeout_keep_alive``), and resets even that on
every byte: a client that opens a connection and sends nothing, or trickles its headers or its body a
byte at a time, holds a connection (and its buffers) for as long as it likes — a few hundred such
"slowloris" connections are cheap to open. This protocol closes a connection whose request line and
headers are not all in within ``SALESCAST_HEADER_TIMEOUT`` seconds (counted from the connection, or
from the first byte of a keep-alive request) or whose body is not all in within
``SALESCAST_BODY_TIMEOUT`` seconds after its headers; it answers ``408`` when no response is under way.
Request lines and headers larger than 64 KiB in all get ``431`` (uvicorn's httptools parser has no
limit: one header of a gigabyte would be buffered whole). Its ``400`` for a request the parser refuses
(a malformed ``Content-Length``, say) is the API's JSON error instead of plain text.

``salescast serve`` runs uvicorn with ``http="salescast.api.http_protocol:DeadlineHttpToolsProtocol"``;
the deadlines come from the settings (the environment, which ``serve`` exports to its workers).
"""

from __future__ import annotations

import asyncio

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from salescast.api.errors import error_body
from salescast.settings import get_settings

PROTOCOL = "salescast.api.http_protocol:DeadlineHttpToolsProtocol"
MAX_HEADER_BYTES = 64 * 1024


class DeadlineHttpToolsProtocol(HttpToolsProtocol):
    """:class:`HttpToolsProtocol` with a header deadline, a body deadline and a JSON ``400``."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        settings = get_settings()
        self.header_timeout = settings.header_timeout
        self.body_timeout = settings.body_timeout
        self._deadline: asyncio.TimerHandle | None = None
        self._awaiting_headers = True
        self._header_bytes = 0

    # -- deadlines ------------------------------------------------------------------------------

    def _arm(self, seconds: float, waiting_for: str) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(seconds, self._expired, waiting_for, seconds)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _expired(self, waiting_for: str, seconds: float) -> None:
        self._deadline = None
        if self.transport.is_closing():
            return
        self.logger.info("closing a connection from %s: %s not received within %g s", self.client, waiting_for, seconds)
        cycle = self.cycle
        if waiting_for == "request headers":  # the last cycle, if any, is a previous request's
            say_why = cycle is None or cycle.response_complete
        else:  # this request's: answered already (early, before reading its body) or not
            say_why = not cycle.response_started
        if say_why:
            self._write_error(408, f"{waiting_for} not received within {seconds:g} s; closing the connection")
        if cycle is not None and not cycle.response_complete:
            # The application waiting for the body hears the client left, and its answer goes nowhere.
            cycle.disconnected = True
            cycle.message_event.set()
        self.transport.close()

    def connection_made(self, transport) -> None:
        super().connection_made(transport)
        self._arm(self.header_timeout, "request headers")

    def connection_lost(self, exc) -> None:
        self._disarm()
        super().connection_lost(exc)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self._deadline is None:  # a keep-alive request's first byte (a fresh connection is armed already)
            self._arm(self.header_timeout, "request headers")

    def on_headers_complete(self) -> None:
        self._awaiting_headers, self._header_bytes = False, 0
        self._arm(self.body_timeout, "the request body")
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._disarm()
        self._awaiting_headers = True
        super().on_message_complete()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        # Still before the end of the headers once this chunk is parsed: all of it was request line and headers.
        if self._awaiting_headers and not self.transport.is_closing():
            self._header_bytes += len(data)
            if self._header_bytes > MAX_HEADER_BYTES:
                self._disarm()
                self._write_error(431, f"request line and headers larger than {MAX_HEADER_BYTES // 1024} KiB")
                self.transport.close()

    # -- malformed requests ---------------------------------------------------------------------

    def _write_error(self, status: int, detail: str) -> None:
        body = error_body(detail)
        head = [f"HTTP/1.1 {status} {_REASONS[status]}\r\n".encode()]
        for name, value in self.server_state.default_headers:
            head += [name, b": ", value, b"\r\n"]
        head += [
            b"content-type: application/json\r\n",
            b"content-length: " + str(len(body)).encode() + b"\r\n",
            b"connection: close\r\n\r\n",
        ]
        self.transport.write(b"".join(head) + body)

    def send_400_response(self, msg: str) -> None:
        self._disarm()
        self._write_error(
            400, "malformed HTTP request (request line, a header, a Content-Length or the chunked encoding)"
        )
        self.transport.close()


_REASONS = {400: "Bad Request", 408: "Request Timeout", 431: "Request Header Fields Too Large"}
