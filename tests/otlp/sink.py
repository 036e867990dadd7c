"""The OTLP/HTTP receiver of the gateway's metric-parity test: the `oteltest` package's sink
(a real receiver that decodes OTLP protobuf and JSON bodies), on the port given, writing each
export it receives to standard output as one JSON line in protobuf's JSON mapping."""

import json
import logging
import socket
import sys
import time

from google.protobuf.json_format import MessageToDict
from oteltest.sink import HttpSink
from oteltest.sink.handler import RequestHandler


class JsonLines(RequestHandler):
    def handle_metrics(self, request, headers):  # noqa: ARG002
        print(json.dumps({"metrics": MessageToDict(request)}), flush=True)

    def handle_trace(self, request, headers):  # noqa: ARG002
        print(json.dumps({"traces": MessageToDict(request)}), flush=True)

    def handle_logs(self, request, headers):  # noqa: ARG002
        pass


def main():
    port = int(sys.argv[1])
    sink = HttpSink(JsonLines(), logging.getLogger("otlp-sink"), port=port, daemon=False)
    sink.start()
    # The sink binds on its own thread: say so only once it answers.
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
            break
        except OSError:
            time.sleep(0.05)
    print(json.dumps({"listening": port}), flush=True)
    sink.svr_thread.join()


if __name__ == "__main__":
    main()
