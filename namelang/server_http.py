"""uvicorn's HTTP protocol for `namelang serve`, answering what its parser refuses in JSON, as the app does.

httptools parses a URL with 16-bit offsets, so a URL over 65,535 bytes can never reach the app: it is
answered 414 (send the names in a POST body) as soon as its bytes pass the limit, unread beyond it.
Imported by uvicorn (by name, in each worker process), never by the library.
"""

from __future__ import annotations

import json

from uvicorn.protocols.http.auto import AutoHTTPProtocol

MAX_URL_BYTES = 65_535


class JSONErrorsProtocol(AutoHTTPProtocol):  # httptools when installed (the `serve` extra), else h11
    url_too_long = False

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
        self.transport.close()
