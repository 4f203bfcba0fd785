#!/usr/bin/env python3
"""A small HTTP/1.1 server for the router's end-to-end tests and benchmarks.

Usage: upstream_server.py --id NAME [--port 0] [--port-file FILE]

Prints "listening on PORT" on stdout (and writes PORT to --port-file). Every
response carries "X-Upstream-Id: NAME". What a request gets depends on its path:

  /                   200, JSON {"id": NAME, "path": ..., "n": request number}
  /json?value=V       200, JSON {"value": V}  (the same for every replica: mirror agreement)
  /status/CODE        that status, a small JSON body
  /sleep?ms=N         200 after N milliseconds
  /stream?chunks=N&interval_ms=M
                      200, chunked: N chunks "chunk I\\n", M ms apart
  /echo               200, JSON of the request: method, path, headers, body
  /garbage            bytes that are not HTTP, then close
  /close              close the connection without answering
  /crash              exit the process at once (os._exit), without answering
  /__stats            JSON {"connections": accepted connections, "requests": N}
"""
import argparse
import json
import os
import socket
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()
STATS = {"connections": 0, "requests": 0}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "upstream"

    def setup(self):
        super().setup()
        # Head and body go out in separate writes: without this, Nagle and
        # the peer's delayed ACK add 40 ms to every response.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with LOCK:
            STATS["connections"] += 1

    def log_message(self, *args):  # Quiet.
        pass

    def send_json(self, status, value, extra=None):
        body = json.dumps(value).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Upstream-Id", self.server.upstream_id)
        for name, val in (extra or {}).items():
            self.send_header(name, val)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def handle_any(self):
        with LOCK:
            STATS["requests"] += 1
            n = STATS["requests"]
        url = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(url.query))
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        path = url.path
        if path == "/json":
            self.send_json(200, {"value": query.get("value", "")})
        elif path.startswith("/status/"):
            code = int(path.split("/")[2])
            self.send_json(code, {"id": self.server.upstream_id, "status": code})
        elif path == "/sleep":
            time.sleep(int(query.get("ms", "100")) / 1000)
            self.send_json(200, {"id": self.server.upstream_id, "slept_ms": int(query.get("ms", "100"))})
        elif path == "/stream":
            chunks = int(query.get("chunks", "5"))
            interval = int(query.get("interval_ms", "200")) / 1000
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Transfer-Encoding", "chunked")
            self.send_header("X-Upstream-Id", self.server.upstream_id)
            self.end_headers()
            self.wfile.flush()
            for i in range(chunks):
                data = f"chunk {i} at {time.time():.3f}\n".encode()
                self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
                self.wfile.flush()
                if i + 1 < chunks:
                    time.sleep(interval)
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        elif path == "/echo":
            self.send_json(200, {
                "id": self.server.upstream_id,
                "method": self.command,
                "path": self.path,
                "version": self.request_version,
                "headers": [[k, v] for k, v in self.headers.items()],
                "body": body.decode("utf-8", "replace"),
            })
        elif path == "/garbage":
            self.wfile.write(b"this is not HTTP at all\r\n\r\n")
            self.wfile.flush()
            self.close_connection = True
        elif path == "/close":
            self.close_connection = True
        elif path == "/crash":
            os._exit(3)
        elif path == "/__stats":
            with LOCK:
                self.send_json(200, dict(STATS))
        else:
            self.send_json(200, {"id": self.server.upstream_id, "path": self.path, "n": n})

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = handle_any


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--id", required=True)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--port-file")
    args = parser.parse_args()
    server = Server(("127.0.0.1", args.port), Handler)
    server.upstream_id = args.id
    port = server.server_address[1]
    if args.port_file:
        with open(args.port_file + ".tmp", "w") as f:
            f.write(str(port))
        os.replace(args.port_file + ".tmp", args.port_file)
    print(f"listening on {port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
