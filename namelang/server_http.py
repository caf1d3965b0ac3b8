"""uvicorn's HTTP protocol for `namelang serve`, answering what its parser refuses in JSON, as the app does.

httptools parses a URL with 16-bit offsets, so a URL over 65,535 bytes can never reach the app: it is
answered 414 (send the names in a POST body) as soon as its bytes pass the limit, unread beyond it.
Imported by uvicorn (by name, in each worker process), never by the library.
"""

from __future__ import annotations

import json

from uvicorn.protocols.http.auto import AutoHTTPProtocol

MAX_URL_BYTES = 65_535
# After the error answer, what the client is still sending is read and dropped for up to this long (a
# "lingering close", as nginx does): closing at once with unread bytes makes the kernel reset the
# connection, and a client still sending its long URL then loses the answer with it.
LINGER_SECONDS = 2.0


class JSONErrorsProtocol(AutoHTTPProtocol):  # httptools when installed (the `serve` extra), else h11
    url_too_long = False
    lingering = False

    def data_received(self, data: bytes) -> None:
        if not self.lingering:  # after an error answer the rest of the request is dropped unparsed
            super().data_received(data)

    def on_url(self, url: bytes) -> None:  # httptools only
        super().on_url(url)
        if len(self.url) > MAX_URL_BYTES:
            self.url_too_long = True
            raise ValueError("URL too long")  # the parser stops here: nothing more is read or kept

    def send_400_response(self, msg: str) -> None:
        if self.url_too_long:
            status = b"414 URI Too Long"
            detail = f"URL over {MAX_URL_BYTES:,} bytes: send the names in a POST body instead"
        else:
            status, detail = b"400 Bad Request", f"malformed HTTP request: {msg}"
        body = json.dumps({"detail": detail}).encode()
        head = [b"HTTP/1.1 " + status + b"\r\n"]
        head += [name + b": " + value + b"\r\n" for name, value in self.server_state.default_headers]
        head += [b"content-type: application/json\r\n", b"content-length: %d\r\n" % len(body)]
        self.transport.write(b"".join(head) + b"connection: close\r\n\r\n" + body)
        if not self.transport.can_write_eof():
            self.transport.close()
            return
        self.transport.write_eof()  # the answer is whole; the client's bytes are read until it closes
        self.lingering = True
        self.loop.call_later(LINGER_SECONDS, self.transport.close)
