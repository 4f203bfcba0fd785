#!/usr/bin/env python3
"""Client side of the router's end-to-end tests. Prints JSON on stdout.

  router_client.py count PORT N [PATH] [-H NAME:VALUE]... [--key-header H]
      N requests on one keep-alive connection; counts by X-Tauon-Release,
      X-Upstream-Id and status. With --key-header, request i carries
      H: user-(i % 50) and the result maps each key to the releases it saw.
  router_client.py stream PORT PATH
      Seconds from the request to the first body byte and to the end.
  router_client.py raw PORT FILE [--wait S]
      Sends FILE's bytes as they are, prints what came back (until close or S).
  router_client.py slow PORT BYTES SECONDS
      Sends BYTES then nothing; reports whether and when the router closed.
"""
import http.client
import json
import socket
import sys
import time


def count(port, n, path, headers, key_header):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    releases, upstreams, statuses, keys, ids = {}, {}, {}, {}, set()
    for i in range(n):
        h = dict(headers)
        if key_header:
            h[key_header] = f"user-{i % 50}"
        try:
            conn.request("GET", path, headers=h)
            r = conn.getresponse()
            r.read()
        except (http.client.HTTPException, ConnectionError) as e:
            # A response cut short (its replica died mid-body): counted, and a new connection.
            statuses[type(e).__name__] = statuses.get(type(e).__name__, 0) + 1
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            continue
        release = r.getheader("X-Tauon-Release", "")
        releases[release] = releases.get(release, 0) + 1
        up = r.getheader("X-Upstream-Id", "")
        upstreams[up] = upstreams.get(up, 0) + 1
        statuses[str(r.status)] = statuses.get(str(r.status), 0) + 1
        ids.add(r.getheader("X-Request-Id", ""))
        if key_header:
            keys.setdefault(h[key_header], set()).add(release)
    print(json.dumps({"releases": releases, "upstreams": upstreams, "statuses": statuses,
                      "distinct_request_ids": len(ids),
                      "keys": {k: sorted(v) for k, v in keys.items()}}, sort_keys=True))


def stream(port, path):
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    start = time.monotonic()
    s.sendall(f"GET {path} HTTP/1.1\r\nHost: t\r\n\r\n".encode())
    data = b""
    first_body = None
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
        head_end = data.find(b"\r\n\r\n")
        if first_body is None and head_end >= 0 and len(data) > head_end + 4:
            first_body = time.monotonic() - start
        if data.endswith(b"0\r\n\r\n"):
            break
    end = time.monotonic() - start
    head, _, body = data.partition(b"\r\n\r\n")
    print(json.dumps({"first_body_s": first_body, "end_s": end,
                      "head": head.decode(errors="replace"),
                      "body": body.decode(errors="replace")}))


def raw(port, file, wait):
    with open(file, "rb") as f:
        payload = f.read()
    s = socket.create_connection(("127.0.0.1", port), timeout=wait)
    s.sendall(payload)
    data = b""
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    except (socket.timeout, ConnectionResetError):
        pass
    sys.stdout.write(data.decode(errors="replace"))


def slow(port, payload, seconds):
    s = socket.create_connection(("127.0.0.1", port), timeout=seconds)
    start = time.monotonic()
    s.sendall(payload.encode().decode("unicode_escape").encode())
    closed_after = None
    try:
        data = s.recv(65536)
        if not data or True:
            closed_after = time.monotonic() - start
    except socket.timeout:
        pass
    except ConnectionResetError:
        closed_after = time.monotonic() - start
    print(json.dumps({"closed": closed_after is not None, "closed_after_s": closed_after}))


def main(argv):
    cmd = argv[1]
    if cmd == "count":
        port, n = int(argv[2]), int(argv[3])
        rest = argv[4:]
        path = "/"
        headers, key_header = {}, None
        i = 0
        while i < len(rest):
            if rest[i] == "-H":
                name, _, value = rest[i + 1].partition(":")
                headers[name] = value.strip()
                i += 2
            elif rest[i] == "--key-header":
                key_header = rest[i + 1]
                i += 2
            else:
                path = rest[i]
                i += 1
        count(port, n, path, headers, key_header)
    elif cmd == "stream":
        stream(int(argv[2]), argv[3])
    elif cmd == "raw":
        wait = float(argv[5]) if len(argv) > 5 and argv[4] == "--wait" else 5.0
        raw(int(argv[2]), argv[3], wait)
    elif cmd == "slow":
        slow(int(argv[2]), argv[3], float(argv[4]))
    else:
        sys.exit(f"unknown command {cmd}")


if __name__ == "__main__":
    main(sys.argv)
