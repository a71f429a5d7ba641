"""A case system's webhook endpoint for the tests: a real HTTP server on a loopback port."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from app.webhook_payloads import EVENT_MODELS


class Receiver:
    """A case system's webhook endpoint on a loopback port, recording what it gets."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append((dict(self.headers), body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def events(self, event: str) -> list[tuple[dict[str, str], dict]]:
        """The deliveries of one event: headers and parsed body."""
        found = [
            (headers, json.loads(body))
            for headers, body in self.received
            if headers["X-Arealsjekk-Event"] == event
        ]
        for _, payload in found:  # as the OpenAPI document's `webhooks` describe it
            EVENT_MODELS[event].model_validate(payload)
        return found
