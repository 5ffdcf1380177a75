"""A loopback HTTP receiver that answers like the Telegram Bot API and like Slack,
Discord and generic webhooks, and records every request it gets."""

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    method: str
    path: str
    headers: dict
    body: bytes

    def json(self):
        return json.loads(self.body)


@dataclass
class Receiver:
    url: str = ""
    requests: list[Received] = field(default_factory=list)
    # Statuses to answer with, one per request, then 200 (e.g. [500, 500] then ok).
    script: list[int] = field(default_factory=list)
    retry_after: int | None = None

    def answer(self, path: str) -> tuple[int, dict, bytes]:
        status = self.script.pop(0) if self.script else 200
        if "/sendMessage" in path:  # Telegram Bot API shape
            if status == 200:
                body = {"ok": True, "result": {"message_id": len(self.requests)}}
            else:
                body = {"ok": False, "error_code": status, "description": "scripted failure"}
                if self.retry_after is not None:
                    body["parameters"] = {"retry_after": self.retry_after}
            return status, {"Content-Type": "application/json"}, json.dumps(body).encode()
        headers = {"Content-Type": "text/plain"}
        if status == 429 and self.retry_after is not None:
            headers["Retry-After"] = str(self.retry_after)
        return status, headers, b"ok" if status == 200 else b"scripted failure"


def start_receiver() -> tuple[Receiver, ThreadingHTTPServer]:
    receiver = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            receiver.requests.append(
                Received("POST", self.path, {k.lower(): v for k, v in self.headers.items()}, body)
            )
            status, headers, payload = receiver.answer(self.path)
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}"
    return receiver, server
