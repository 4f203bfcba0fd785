"""Serve a trained model over HTTP (standard library only, plus numpy).

    python3 src/digits/serve.py --model out/model --port 8080 [--host 127.0.0.1]

    GET  /healthz  -> 200 {"status": "ok", "model": {...}}
    POST /predict  {"pixels": [64 numbers 0-16]}
                   -> 200 {"digit": 3, "probabilities": [10 numbers]}
    POST /predict  {"instances": [[64 numbers], ...]}
                   -> 200 {"predictions": [{"digit": ..., "probabilities": [...]}, ...]}

Bad input gets a 400 with {"error": "..."} saying what was wrong. The
environment variable DIGITS_SERVE_FAULTS (a fraction from 0 to 1) makes that
share of /predict requests fail with a 500: a deliberately broken release,
to watch a canary analysis roll it back. Requests
are handled in parallel threads; each one is logged as one line on stderr.
Port 0 picks a free port; the line "serving ... on http://HOST:PORT" says which.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import signal
import sys
import time
from collections.abc import Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a file: make the `digits` package importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np

from digits.data import MAX_PIXEL, N_PIXELS
from digits.model import WEIGHTS_FILE, DigitsModel, file_digest, load_metadata

MAX_BODY_BYTES = 1 << 20
MAX_INSTANCES = 1000
FAULTS_ENV = "DIGITS_SERVE_FAULTS"


def fault_rate(environ: dict[str, str] = os.environ) -> float:
    """The share of /predict requests to fail on purpose ($DIGITS_SERVE_FAULTS, default 0)."""
    text = environ.get(FAULTS_ENV, "").strip()
    if not text:
        return 0.0
    try:
        rate = float(text)
    except ValueError:
        raise SystemExit(f"{FAULTS_ENV} must be a number from 0 to 1, got {text!r}") from None
    if not 0.0 <= rate <= 1.0:
        raise SystemExit(f"{FAULTS_ENV} must be a number from 0 to 1, got {text!r}")
    return rate


class BadRequest(ValueError):
    """The request cannot be answered; the message tells the client why."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def parse_image(value: Any, where: str) -> list[float]:
    """One image: a list of 64 numbers from 0 to 16."""
    if not isinstance(value, list) or len(value) != N_PIXELS:
        got = f"{len(value)} items" if isinstance(value, list) else type(value).__name__
        raise BadRequest(f"{where} must be a list of {N_PIXELS} numbers, got {got}")
    for index, pixel in enumerate(value):
        if (isinstance(pixel, bool) or not isinstance(pixel, (int, float))
                or not math.isfinite(pixel) or not 0 <= pixel <= MAX_PIXEL):
            raise BadRequest(f"{where}[{index}] must be a number from 0 to {MAX_PIXEL}, "
                             f"got {json.dumps(pixel)}")
    return value


def parse_payload(payload: Any) -> tuple[np.ndarray, bool]:
    """The images of a /predict body, and whether it was a single `pixels` image."""
    if not isinstance(payload, dict) or len(payload.keys() & {"pixels", "instances"}) != 1:
        raise BadRequest('expected a JSON object with either "pixels" (one image) '
                         'or "instances" (a list of images)')
    if "pixels" in payload:
        return np.array([parse_image(payload["pixels"], "pixels")]), True
    instances = payload["instances"]
    if not isinstance(instances, list) or not 1 <= len(instances) <= MAX_INSTANCES:
        raise BadRequest(f'"instances" must be a list of 1 to {MAX_INSTANCES} images')
    return np.array([parse_image(image, f"instances[{i}]")
                     for i, image in enumerate(instances)]), False


def predictions(model: DigitsModel, images: np.ndarray) -> list[dict[str, Any]]:
    """The digit and the class probabilities of each image."""
    probabilities = model.predict_proba(images)
    return [{"digit": int(model.classes[row.argmax()]),
             "probabilities": [round(float(p), 6) for p in row]}
            for row in probabilities]


class DigitsServer(ThreadingHTTPServer):
    """An HTTP server holding one loaded model (read-only, shared by all threads)."""

    daemon_threads = True
    request_queue_size = 128  # the default listen backlog of 5 drops bursts of connections

    def __init__(self, address: tuple[str, int], model_dir: Path) -> None:
        self.model = DigitsModel.load(model_dir)
        self.fault_rate = fault_rate()
        metadata = load_metadata(model_dir)
        self.model_info = {"kind": metadata.get("kind"), "seed": metadata.get("seed"),
                           "degraded": metadata.get("degraded"),
                           "weights": file_digest(Path(model_dir) / WEIGHTS_FILE)}
        super().__init__(address, DigitsHandler)


class DigitsHandler(BaseHTTPRequestHandler):
    server: DigitsServer
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body are separate writes: send both at once
    server_version = "digits-serve/1"

    def handle_one_request(self) -> None:
        self.started = time.perf_counter()
        self.body_read = False
        super().handle_one_request()

    @property
    def route(self) -> str:
        """The request's path without its query string."""
        return self.path.partition("?")[0]

    def do_GET(self) -> None:
        if self.route == "/healthz":
            self.send_json(200, {"status": "ok", "model": self.server.model_info})
        elif self.route == "/predict":
            self.send_json(405, {"error": "use POST for /predict"})
        else:
            self.send_json(404, {"error": f"no such endpoint: {self.route}"})

    def do_POST(self) -> None:
        if self.route != "/predict":
            status = 405 if self.route == "/healthz" else 404
            self.send_json(status, {"error": f"cannot POST to {self.route}"})
            return
        try:
            images, single = parse_payload(self.read_json())
        except BadRequest as error:
            self.send_json(error.status, {"error": str(error)})
            return
        if self.server.fault_rate and random.random() < self.server.fault_rate:
            self.send_json(500, {"error": f"injected fault ({FAULTS_ENV})"})
            return
        results = predictions(self.server.model, images)
        self.send_json(200, results[0] if single else {"predictions": results})

    def read_json(self) -> Any:
        """The request body as JSON."""
        length = self.headers.get("Content-Length")
        if length is None or not length.isdigit():
            raise BadRequest("a JSON body with a Content-Length header is required", 411)
        if int(length) > MAX_BODY_BYTES:
            raise BadRequest(f"the body is larger than {MAX_BODY_BYTES} bytes", 413)
        body = self.rfile.read(int(length))
        self.body_read = True
        try:
            return json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise BadRequest(f"the body is not valid JSON: {error}") from None

    def has_unread_body(self) -> bool:
        """Whether the request has a body that was not read (so the connection is unusable)."""
        declared = (self.headers.get("Content-Length", "0") != "0"
                    or "Transfer-Encoding" in self.headers)
        return declared and not self.body_read

    def send_json(self, status: int, body: Any) -> None:
        """Answer with a JSON body; close the connection if the request body was left unread."""
        if self.has_unread_body():
            self.close_connection = True
        data = json.dumps(body).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(data)

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        elapsed_ms = (time.perf_counter() - self.started) * 1000.0
        self.log_message('"%s" %s %.2fms', self.requestline, code, elapsed_ms)


def make_server(model_dir: str | Path, host: str = "127.0.0.1", port: int = 0) -> DigitsServer:
    """A server for the model in `model_dir`, bound but not yet serving."""
    return DigitsServer((host, port), Path(model_dir))


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Serve a trained digits model over HTTP.")
    parser.add_argument("--model", type=Path, required=True, help="directory written by train.py")
    parser.add_argument("--port", type=int, required=True, help="port to listen on (0: any free)")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    return parser.parse_args(argv)


def stop_on_sigterm() -> None:
    """Make SIGTERM (how supervisors stop a replica) end `serve_forever` like Ctrl-C."""
    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, interrupt)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    server = make_server(args.model, args.host, args.port)
    host, port = server.server_address[:2]
    print(f"serving {args.model} on http://{host}:{port}", file=sys.stderr, flush=True)
    stop_on_sigterm()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("stopping", file=sys.stderr, flush=True)
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
