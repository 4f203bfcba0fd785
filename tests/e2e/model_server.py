# A model server for the deploy tests, run as a replica (`serve.command`):
# listens on 127.0.0.1:$PORT, answers every GET with {"model": $TAUON_MODEL,
# "replica": $TAUON_REPLICA, "label": x % 2} (x from the query, ?x=3; 0
# without) and /healthz with 200. How it behaves comes from the model's
# files, $TAUON_MODEL_DIR/behaviour.txt, one of:
#   ok            answers 200
#   wrong         answers 200 with the wrong label
#   errors        answers 500 (but /healthz 200: it gets ready)
#   crash         exits at once (a crash loop)
#   delay S       every answer waits S seconds
#   unready       /healthz answers 503: it never gets ready
#   slowstart S   listens only after S seconds
import http.server, json, os, sys, time, urllib.parse

words = open(os.path.join(os.environ["TAUON_MODEL_DIR"], "behaviour.txt")).read().split()
behaviour = words[0]
argument = float(words[1]) if len(words) > 1 else 0.0
if behaviour not in ("ok", "wrong", "errors", "crash", "delay", "unready", "slowstart"):
    sys.exit(f"unknown behaviour {behaviour!r}")
if behaviour == "crash":
    sys.exit("this model cannot load")
if behaviour == "slowstart":
    time.sleep(argument)


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def do_GET(self):
        url = urllib.parse.urlparse(self.path)
        if url.path == "/healthz":
            status = 503 if behaviour == "unready" else 200
        else:
            status = 500 if behaviour == "errors" else 200
            if behaviour == "delay":
                time.sleep(argument)
        x = int(urllib.parse.parse_qs(url.query).get("x", ["0"])[0])
        body = json.dumps({"model": os.environ["TAUON_MODEL"],
                           "replica": os.environ.get("TAUON_REPLICA", ""),
                           "label": (x + 1) % 2 if behaviour == "wrong" else x % 2}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


http.server.ThreadingHTTPServer(("127.0.0.1", int(os.environ["PORT"])), Handler).serve_forever()
