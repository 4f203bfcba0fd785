import http.client
import json
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from digits.data import load_dataset
from digits.serve import fault_rate, make_server


@pytest.fixture(scope="module")
def server(model_dir):
    """A live server on a free port of 127.0.0.1, serving in a background thread."""
    server = make_server(model_dir, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join()


def request(server, method: str, path: str, body: bytes | str | None = None):
    """Send one request; returns the status and the decoded JSON body."""
    connection = http.client.HTTPConnection(*server.server_address[:2], timeout=5)
    try:
        connection.request(method, path, body=body,
                           headers={"Content-Type": "application/json"} if body else {})
        response = connection.getresponse()
        assert response.getheader("Content-Type") == "application/json"
        return response.status, json.loads(response.read())
    finally:
        connection.close()


def image(index: int) -> list[float]:
    return load_dataset().pixels[index].tolist()


@pytest.mark.parametrize("path", ["/healthz", "/healthz?probe=1"])
def test_healthz(server, path):
    status, body = request(server, "GET", path)
    assert status == 200
    assert body["status"] == "ok"
    assert body["model"]["weights"].startswith("sha256:")


def test_predicts_one_image(server, model):
    status, body = request(server, "POST", "/predict", json.dumps({"pixels": image(5)}))
    assert status == 200
    assert body["digit"] == model.predict(np.array([image(5)]))[0]
    assert len(body["probabilities"]) == 10
    assert sum(body["probabilities"]) == pytest.approx(1.0, abs=1e-4)


def test_predicts_a_batch(server, model):
    images = [image(i) for i in range(8)]
    status, body = request(server, "POST", "/predict", json.dumps({"instances": images}))
    assert status == 200
    assert [p["digit"] for p in body["predictions"]] == model.predict(np.array(images)).tolist()


@pytest.mark.parametrize("body, message", [
    ("{not json", "not valid JSON"),
    ("[1, 2]", "either \"pixels\""),
    ("{}", "either \"pixels\""),
    (json.dumps({"pixels": [0] * 64, "instances": [[0] * 64]}), "either \"pixels\""),
    (json.dumps({"pixels": [0] * 63}), "pixels must be a list of 64 numbers, got 63 items"),
    (json.dumps({"pixels": "0" * 64}), "got str"),
    (json.dumps({"pixels": [0] * 63 + [17]}), "pixels[63] must be a number from 0 to 16, got 17"),
    (json.dumps({"pixels": [0] * 63 + ["1"]}), 'got "1"'),
    (json.dumps({"pixels": [True] + [0] * 63}), "pixels[0] must be a number"),
    (json.dumps({"instances": []}), "list of 1 to 1000 images"),
    (json.dumps({"instances": [[0] * 64, [0] * 2]}), "instances[1] must be a list of 64"),
])
def test_bad_input_gets_a_400_that_says_why(server, body, message):
    status, answer = request(server, "POST", "/predict", body)
    assert status == 400
    assert message in answer["error"]


def test_unknown_paths_and_methods(server):
    assert request(server, "GET", "/nope")[0] == 404
    assert request(server, "GET", "/predict")[0] == 405
    assert request(server, "POST", "/healthz", "{}")[0] == 405


def test_concurrent_requests(server, model):
    def predict(index: int) -> int:
        status, body = request(server, "POST", "/predict", json.dumps({"pixels": image(index)}))
        assert status == 200
        return body["digit"]

    with ThreadPoolExecutor(max_workers=8) as pool:
        digits = list(pool.map(predict, range(40)))
    expected = model.predict(np.array([image(i) for i in range(40)])).tolist()
    assert digits == expected


def test_logs_one_line_per_request(server, capsys):
    request(server, "GET", "/healthz")
    request(server, "POST", "/predict", "{}")
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 2
    assert '"GET /healthz HTTP/1.1" 200' in lines[0]
    assert '"POST /predict HTTP/1.1" 400' in lines[1]


def test_keep_alive_survives_a_rejected_body(server):
    """A body the server did not read must not be taken for the next request."""
    connection = http.client.HTTPConnection(*server.server_address[:2], timeout=5)
    try:
        connection.request("POST", "/healthz", body="{}")
        first = connection.getresponse()
        first.read()
        assert first.status == 405 and first.getheader("Connection") == "close"
        connection.request("GET", "/healthz")  # http.client reconnects after "close"
        assert connection.getresponse().status == 200
    finally:
        connection.close()


def test_keep_alive_reuses_the_connection(server):
    connection = http.client.HTTPConnection(*server.server_address[:2], timeout=5)
    try:
        for _ in range(3):
            connection.request("POST", "/predict", body=json.dumps({"pixels": image(0)}))
            response = connection.getresponse()
            response.read()
            assert response.status == 200 and response.getheader("Connection") is None
    finally:
        connection.close()


@pytest.mark.parametrize("value, rate", [(None, 0.0), ("", 0.0), ("0", 0.0), ("0.3", 0.3), ("1", 1.0)])
def test_fault_rate_from_the_environment(value, rate):
    environ = {} if value is None else {"DIGITS_SERVE_FAULTS": value}
    assert fault_rate(environ) == rate


@pytest.mark.parametrize("value", ["lots", "1.5", "-0.1"])
def test_a_bad_fault_rate_stops_the_server(value):
    with pytest.raises(SystemExit, match="DIGITS_SERVE_FAULTS must be a number from 0 to 1"):
        fault_rate({"DIGITS_SERVE_FAULTS": value})


def test_injected_faults_answer_500(server):
    server.fault_rate = 1.0
    try:
        status, body = request(server, "POST", "/predict", json.dumps({"pixels": image(0)}))
        assert status == 500 and body == {"error": "injected fault (DIGITS_SERVE_FAULTS)"}
        assert request(server, "GET", "/healthz")[0] == 200  # still ready: only predictions fail
    finally:
        server.fault_rate = 0.0
