"""Shared by the server benchmarks: a bare repository to push to, and a
`tauon serve` on a free loopback port."""
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GIT = ["git", "-c", "user.name=bench", "-c", "user.email=bench@tauon.invalid"]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, tauon, workdir, pipeline, max_jobs=2, extra=()):
        os.makedirs(workdir, exist_ok=True)
        self.work = tempfile.mkdtemp(prefix="server-bench.", dir=workdir)
        self.origin = os.path.join(self.work, "origin.git")
        self.clone = os.path.join(self.work, "clone")
        self.data = os.path.join(self.work, "data")
        subprocess.run(["git", "init", "-q", "--bare", "-b", "main", self.origin], check=True)
        subprocess.run(["git", "init", "-q", "-b", "main", self.clone], check=True)
        with open(os.path.join(self.clone, ".tauon.yml"), "w") as f:
            f.write(pipeline)
        self.commit("pipeline")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = open(os.path.join(self.work, "server.log"), "w")
        self.process = subprocess.Popen(
            [tauon, "serve", "--data-dir", self.data, "--listen", f"127.0.0.1:{self.port}",
             "--max-jobs", str(max_jobs), *extra],
            stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 10
        while True:
            try:
                urllib.request.urlopen(self.url + "/healthz", timeout=1).read()
                break
            except OSError:
                if time.time() > deadline:
                    raise SystemExit("tauon serve did not start; see " + self.log.name)
                time.sleep(0.05)
        with open(os.path.join(self.data, "token")) as f:
            self.token = f.read().strip()

    def commit(self, message, push=False):
        with open(os.path.join(self.clone, "counter"), "a") as f:
            f.write(message + "\n")
        subprocess.run(GIT + ["add", "-A"], cwd=self.clone, check=True)
        subprocess.run(GIT + ["commit", "-qm", message], cwd=self.clone, check=True)
        if push:
            self.push()
        return subprocess.run(["git", "rev-parse", "HEAD"], cwd=self.clone, check=True,
                              capture_output=True, text=True).stdout.strip()

    def push(self):
        subprocess.run(["git", "push", "-q", self.origin, "main"], cwd=self.clone, check=True,
                       capture_output=True)

    def api(self, method, path, body=None, headers=None, auth=True):
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.url + path, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        if auth:
            request.add_header("Authorization", "Bearer " + self.token)
        for key, value in (headers or {}).items():
            request.add_header(key, value)
        with urllib.request.urlopen(request, timeout=120) as response:
            return json.loads(response.read() or b"null")

    def runs(self, **filters):
        query = "&".join(f"{k}={v}" for k, v in filters.items())
        return self.api("GET", "/api/v1/runs?limit=500&" + query)["runs"]

    def close(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()
        shutil.rmtree(self.work, ignore_errors=True)
