"""A real local HTTP server standing in for a customer's webhook endpoint."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Receiver:
    """Records each request (headers, body, when it arrived) and answers with the statuses
    queued in `statuses`, then `status`; on_request(receiver, request) runs before the answer.
    The answer carries an internal-looking Server banner and `body`, which no error the
    product shows may repeat."""

    def __init__(self, status=204, on_request=None, body=b""):
        self.requests: list[dict] = []
        self.statuses: list[int] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body_in = self.rfile.read(int(self.headers["Content-Length"]))
                request = {"headers": dict(self.headers), "body": body_in,
                           "received": time.time()}
                with receiver.lock:
                    receiver.requests.append(request)
                    answer = receiver.statuses.pop(0) if receiver.statuses else status
                if on_request:
                    on_request(receiver, request)
                self.send_response(answer)
                self.send_header("Server", "SecretBanner/9.9 (internal-db-01)")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def delivery_ids(self) -> list[str]:
        with self.lock:
            return [r["headers"]["X-Webhook-Delivery"] for r in self.requests]

    def close(self):
        self.server.shutdown()
