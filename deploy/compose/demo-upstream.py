#!/usr/bin/env python3
"""The demo's upstream APIs for the compose stack: the pet store and the weather service that
`gatehouse up --demo` serves in-process (hub/src/demo/upstream.rs), as a small standalone server.

Only the standard library, so it runs in the stock python:3-slim image and, unchanged, in deploy/check.
A little latency and a few upstream errors make the dashboards' latency and 5xx panels show something.

    demo-upstream.py --api petstore --listen 0.0.0.0:9000 [--delay-ms 5-40] [--error-rate 0.01]
"""

import argparse
import json
import random
import re
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

PET_PATH = re.compile(r"^/pets/(\d+)$")


class Pets:
    """The pet store's state, shared by the server's threads."""

    def __init__(self):
        self.lock = threading.Lock()
        self.pets = [{"id": 1, "name": "Rex", "kind": "dog"}, {"id": 2, "name": "Tom", "kind": "cat"}]

    def list(self):
        with self.lock:
            return list(self.pets)

    def get(self, pet_id):
        with self.lock:
            return next((pet for pet in self.pets if pet["id"] == pet_id), None)

    def add(self, pet):
        with self.lock:
            pet["id"] = max((p["id"] for p in self.pets), default=0) + 1
            # Demo traffic adds pets all day long: keep the list short.
            self.pets = self.pets[-50:] + [pet]
            return pet

    def remove(self, pet_id):
        with self.lock:
            before = len(self.pets)
            self.pets = [pet for pet in self.pets if pet["id"] != pet_id]
            return len(self.pets) < before


def handler(api, pets, delay_ms, error_rate):
    class Handler(BaseHTTPRequestHandler):
        server_version = f"demo-{api}"
        protocol_version = "HTTP/1.1"

        def do_GET(self):
            self.route("GET")

        def do_HEAD(self):
            self.route("HEAD")

        def do_POST(self):
            self.route("POST")

        def do_PUT(self):
            self.route("PUT")

        def do_PATCH(self):
            self.route("PATCH")

        def do_DELETE(self):
            self.route("DELETE")

        def route(self, method):
            url = urlsplit(self.path)
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length) if length else b""
            if url.path == "/healthz":
                return self.send(200, {"status": "ok"})
            time.sleep(random.uniform(*delay_ms) / 1000)
            if random.random() < error_rate:
                return self.send(503, {"error": "the demo upstream is having a bad moment (on purpose)"})
            if api == "petstore":
                return self.petstore(method, url.path, body)
            return self.weather(method, url.path, parse_qs(url.query))

        def petstore(self, method, path, body):
            match = PET_PATH.match(path)
            if path == "/pets" and method in ("GET", "HEAD"):
                return self.send(200, pets.list())
            if path == "/pets" and method == "POST":
                try:
                    pet = json.loads(body or b"{}")
                except ValueError:
                    return self.send(400, {"error": "the body is not JSON"})
                if not isinstance(pet, dict):
                    return self.send(400, {"error": "a pet is a JSON object"})
                return self.send(201, pets.add(pet))
            if match and method in ("GET", "HEAD"):
                pet = pets.get(int(match.group(1)))
                return self.send(200, pet) if pet else self.send(404, {"error": "no such pet"})
            if match and method == "DELETE":
                return self.send(204 if pets.remove(int(match.group(1))) else 404, None)
            if path == "/pets" or match:
                return self.send(405, {"error": f"{method} is not served here"})
            return self.send(404, {"error": "no such route"})

        def weather(self, method, path, query):
            if path != "/weather/forecast":
                return self.send(404, {"error": "no such route"})
            if method not in ("GET", "HEAD"):
                return self.send(405, {"error": f"{method} is not served here"})
            city = query.get("city", ["Lisbon"])[0]
            forecast = [
                {"day": "today", "sky": "sunny", "high_c": 21},
                {"day": "tomorrow", "sky": "cloudy", "high_c": 18},
            ]
            return self.send(200, {"city": city, "forecast": forecast})

        def send(self, status, document):
            payload = b"" if document is None else json.dumps(document).encode()
            self.send_response(status)
            if document is not None:
                self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(payload)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(payload)

        def log_message(self, format, *args):
            # One line per request would drown the compose logs; the gateway's access log has them.
            pass

    return Handler


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--api", choices=["petstore", "weather"], required=True)
    parser.add_argument("--listen", default="127.0.0.1:9000", help="HOST:PORT")
    parser.add_argument("--delay-ms", default="5-40", help="each answer waits a random MIN-MAX milliseconds")
    parser.add_argument("--error-rate", type=float, default=0.01, help="share of requests answered 503")
    args = parser.parse_args()
    host, port = args.listen.rsplit(":", 1)
    low, _, high = args.delay_ms.partition("-")
    delay_ms = (float(low), float(high or low))
    server = ThreadingHTTPServer((host, int(port)), handler(args.api, Pets(), delay_ms, args.error_rate))
    server.daemon_threads = True
    # As a container's PID 1 the default SIGTERM action does not apply: stop on it explicitly.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(f"demo {args.api} upstream on http://{args.listen}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
