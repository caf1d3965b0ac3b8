"""`namelang serve`: a real uvicorn process on a free loopback port, spoken to over HTTP with httpx."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from tests.conftest import assert_user_error

MAX_NAMES = 50
NAMES = [
    "Satoshi",
    "Dovesky",
    "Nguyen",
    "",
    "  O'Neill  ",
    "Papadopoulos",
    "Ivanov",
    "Zhang",
    "Ábel",
    "x" * 90,
]


class ServeProcess:
    """`namelang serve --port 0 ...` in a subprocess; its stderr is read on a thread, line by line."""

    def __init__(self, *args: str):
        command = [sys.executable, "-m", "namelang", "serve", "--port", "0", *args]
        self.process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True, env={**os.environ})
        self.lines: queue.Queue[str] = queue.Queue()
        self.stderr: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()
        self.url = self._wait_for_listening()
        self._wait_ready()

    def _read(self):
        for line in self.process.stderr:
            self.stderr.append(line)
            self.lines.put(line)

    def _wait_for_listening(self, timeout: float = 30) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.5)
            except queue.Empty:
                assert self.process.poll() is None, "".join(self.stderr)
                continue
            if line.startswith("listening on "):
                return line.split()[2]
        raise AssertionError(f"the server did not say where it listens: {''.join(self.stderr)}")

    def _wait_ready(self, timeout: float = 30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/readyz", timeout=5).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"/readyz never answered 200: {''.join(self.stderr)}")

    @property
    def address(self) -> tuple[str, int]:
        parts = urlsplit(self.url)
        return parts.hostname, parts.port

    def stop(self, timeout: float = 20) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            raise


@pytest.fixture(scope="session")
def empty_home(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("empty-home")


@pytest.fixture(scope="session")
def served(empty_home):
    # The model shipped in the package: no training needed, and the answers are checked against
    # Classifier at test time, so a new pretrained model changes nothing here.
    srv = ServeProcess("--home", str(empty_home), "--max-names", str(MAX_NAMES))
    yield srv
    srv.stop()


@pytest.fixture(scope="session")
def api(served):
    with httpx.Client(base_url=served.url, timeout=20) as client:
        yield client


@pytest.fixture(scope="session")
def clf(empty_home):
    from namelang.inference import Classifier

    return Classifier.load(None, empty_home, device="cpu")


def expected(clf, names, top_k=3):
    """What the API should say: Classifier.predict, rounded as `predict --format json` rounds."""
    return [
        {"name": name, "predictions": [{"label": lab, "probability": round(p, 6)} for lab, p in pairs]}
        for name, pairs in zip(names, clf.predict(names, top_k=top_k))
    ]


def assert_same(got, want):
    assert [r["name"] for r in got] == [r["name"] for r in want]
    for g, w in zip(got, want):
        assert [p["label"] for p in g["predictions"]] == [p["label"] for p in w["predictions"]], g["name"]
        for pg, pw in zip(g["predictions"], w["predictions"]):
            assert pg["probability"] == pytest.approx(pw["probability"], abs=2e-6)


def test_post_predict_equals_classifier_in_input_order(api, clf):
    response = api.post("/v1/predict", json={"names": NAMES, "top_k": 2})
    assert response.status_code == 200 and response.headers["content-type"] == "application/json"
    assert_same(response.json(), expected(clf, NAMES, top_k=2))
    blank = response.json()[NAMES.index("")]
    assert blank == {"name": "", "predictions": []}


def test_a_name_over_the_limit_is_cut_as_the_cli_cuts_it(api, clf):
    long = "Papadopoulos" * 10
    got = api.post("/v1/predict", json={"names": [long, long[: clf.max_length]]}).json()
    assert got[0]["name"] == long and got[0]["predictions"] == got[1]["predictions"]


def test_get_predict_one_and_several_names(api, clf):
    one = api.get("/v1/predict", params={"name": "Satoshi", "top_k": 1})
    assert one.status_code == 200
    assert_same(one.json(), expected(clf, ["Satoshi"], top_k=1))
    several = api.get("/v1/predict", params=[("name", "Satoshi"), ("name", "Dovesky")])
    assert_same(several.json(), expected(clf, ["Satoshi", "Dovesky"]))


def test_top_k_beyond_the_labels_gives_every_label(api, clf):
    got = api.get("/v1/predict", params={"name": "Ivanov", "top_k": 100}).json()
    assert sorted(p["label"] for p in got[0]["predictions"]) == sorted(clf.labels)


def test_same_json_as_predict_command(api, invoke, empty_home):
    names = ["Satoshi", "Dovesky", "Nguyen", "Zhang", "Ábel"]
    result = invoke("predict", *names, "--format", "json", "--min-prob", "0.9", "--home", empty_home)
    assert result.exit_code == 0, result.output
    response = api.post("/v1/predict", json={"names": names, "min_prob": 0.9})
    assert_same(response.json(), json.loads(result.stdout))  # the same keys, labels and probabilities
    assert [sorted(r) for r in response.json()] == [sorted(r) for r in json.loads(result.stdout)]


SAME_RECORDS = ["Satoshi", "Dovesky", "", "Zhang", "Ábel", "Смирнова", "김", "Zhang", "x" * 90]


@pytest.mark.parametrize(
    "flags, body",
    [
        ((), {}),
        (("-k", "1"), {"top_k": 1}),
        (("-k", "40"), {"top_k": 40}),
        (("--min-prob", "0.9"), {"min_prob": 0.9}),
        (("--coverage", "0.9"), {"coverage": 0.9}),
        (("--explain",), {"explain": True}),
        (("--prior", "uniform", "-k", "2"), {"prior": "uniform", "top_k": 2}),
        (("--coverage", "0.95", "--explain", "--min-prob", "0.5", "-k", "2"),
         {"coverage": 0.95, "explain": True, "min_prob": 0.5, "top_k": 2}),
    ],
)  # fmt: skip
def test_the_command_and_the_server_write_the_same_records(api, invoke, empty_home, flags, body):
    """`namelang predict --format json` and POST /v1/predict, side by side: equal records, key for key,
    with `prediction_set` a JSON list in both (the command's CSV joins it with '|')."""
    result = invoke("predict", *SAME_RECORDS, "--format", "json", *flags, "--home", empty_home)
    assert result.exit_code == 0, result.output
    served = api.post("/v1/predict", json={"names": SAME_RECORDS, **body})
    assert served.status_code == 200, served.text
    records = json.loads(result.stdout)
    assert records == served.json()
    if "coverage" in body:
        assert all(isinstance(r["prediction_set"], list) for r in records)
        assert records[SAME_RECORDS.index("")]["prediction_set"] == []
        as_csv = invoke("predict", *SAME_RECORDS, "--format", "csv", *flags, "--home", empty_home).stdout
        cells = [row["prediction_set"] for row in csv.DictReader(io.StringIO(as_csv))]
        assert cells == ["|".join(r["prediction_set"]) for r in records]


def test_with_a_prefix_the_command_renames_only_its_added_keys(api, invoke, empty_home):
    """The server has no columns to clash with: the command's `--prefix` renames the keys it adds."""
    flags = ("--coverage", "0.9", "--explain", "-k", "2")
    result = invoke("predict", *SAME_RECORDS, "-f", "json", "--prefix", "ml_", *flags, "--home", empty_home)
    assert result.exit_code == 0, result.output
    served = api.post(
        "/v1/predict", json={"names": SAME_RECORDS, "coverage": 0.9, "explain": True, "top_k": 2}
    )
    renamed = [
        {key.removeprefix("ml_"): value for key, value in r.items()} for r in json.loads(result.stdout)
    ]
    assert renamed == served.json()
    assert list(json.loads(result.stdout)[0]) == [
        "name",
        "predictions",
        "ml_prediction_set",
        "ml_script_path",
    ]


def test_explain_adds_the_script_path(api, clf, invoke, empty_home):
    names = ["Zyxwarova", "Зыхварова", "Ζυχβαρόπουλος", "김", "", "Zyxwarova", "Smirnova"]
    want = ["model", "transliterated", "transliterated", "rule: Hangul -> Korean", "", "model", "lexicon"]
    plain = api.post("/v1/predict", json={"names": names}).json()
    assert all("script_path" not in record for record in plain)
    got = api.post("/v1/predict", json={"names": names, "explain": True}).json()
    assert [r["script_path"] for r in got] == want
    assert [r["predictions"] for r in got] == [r["predictions"] for r in plain]  # cached apart, the same
    one = api.get("/v1/predict", params={"name": "Зыхварова", "explain": "true"}).json()
    assert one[0]["script_path"] == "transliterated"
    sets = api.post("/v1/predict", json={"names": names, "explain": True, "coverage": 0.9}).json()
    assert [r["script_path"] for r in sets] == want and all("prediction_set" in r for r in sets)
    result = invoke("predict", *names, "--format", "json", "--explain", "--home", empty_home)
    assert [r["script_path"] for r in json.loads(result.stdout)] == want  # as the command says it


def test_below_min_prob_the_first_prediction_is_null_not_unknown(api, clf):
    top = clf.predict(["Zhang"], top_k=2)[0]
    got = api.get("/v1/predict", params={"name": "Zhang", "min_prob": min(1.0, top[0][1] + 1e-3)}).json()
    assert got[0]["predictions"][0] == {"label": None, "probability": None}  # no language, no probability
    assert got[0]["predictions"][1]["label"] == top[1][0]  # the runner-up stays where it was
    assert api.get("/v1/predict", params={"name": "Zhang"}).json()[0]["predictions"][0]["label"] == top[0][0]


def test_models_health_ready(api, clf):
    card = api.get("/v1/models").json()["models"][0]
    assert card["name"] == clf.name and card["arch"] == clf.card.arch and card["labels"] == clf.labels
    assert set(card["metrics"]) >= {"val_accuracy", "val_macro_f1"}
    assert api.get("/healthz").json() == {"status": "ok"}
    assert api.get("/readyz").json() == {"status": "ready"}


def test_openapi_declares_request_and_response_models(api):
    schema = api.get("/openapi.json").json()
    assert {"PredictRequest", "NamePrediction", "ModelCard"} <= set(schema["components"]["schemas"])
    post = schema["paths"]["/v1/predict"]["post"]
    assert post["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("/PredictRequest")
    docs = api.get("/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()


def test_docs_work_offline(api):
    """/docs and /redoc load Swagger UI and ReDoc from the server itself: no CDN, no network."""
    import re

    for page, asset in (("/docs", "swagger-ui-bundle.js"), ("/redoc", "redoc.standalone.js")):
        html = api.get(page)
        assert html.status_code == 200
        urls = re.findall(r'(?:src|href)="([^"]+)"', html.text)
        assert urls and all(u.startswith("/") for u in urls), urls  # every script, style and icon is ours
        assert "cdn" not in html.text.lower() and "https://" not in html.text
        assert f"/docs-assets/{asset}" in urls
        js = api.get(f"/docs-assets/{asset}")
        assert js.status_code == 200 and len(js.content) > 100_000
    css = api.get("/docs-assets/swagger-ui.css")
    assert css.status_code == 200 and ".swagger-ui" in css.text


def _chunked_body(size: int):
    yield b'{"names": ["'
    for _ in range(size // 1000):
        yield b"a" * 1000
    yield b'"]}'


JSON = {"content-type": "application/json"}
BAD_REQUESTS = {
    "malformed JSON": (400, "POST", {"content": b'{"names": [', "headers": JSON}),
    "not UTF-8": (400, "POST", {"content": b'{"names": ["\xff"]}', "headers": JSON}),
    "names not a list": (422, "POST", {"json": {"names": "Satoshi"}}),
    "a name not a string": (422, "POST", {"json": {"names": ["Satoshi", 7]}}),
    "empty list": (422, "POST", {"json": {"names": []}}),
    "no names": (422, "POST", {"json": {"top_k": 3}}),
    "top_k 0": (422, "POST", {"json": {"names": ["a"], "top_k": 0}}),
    "top_k 101": (422, "GET", {"params": {"name": "a", "top_k": 101}}),
    "top_k not a number": (422, "GET", {"params": {"name": "a", "top_k": "three"}}),
    "min_prob over 1": (422, "GET", {"params": {"name": "a", "min_prob": 1.5}}),
    "min_prob nan": (422, "GET", {"params": {"name": "a", "min_prob": "nan"}}),
    "GET without name": (422, "GET", {}),
    "explain not a bool (POST)": (422, "POST", {"json": {"names": ["a"], "explain": "maybe"}}),
    "explain not a bool (GET)": (422, "GET", {"params": {"name": "a", "explain": "maybe"}}),
    "too many names (POST)": (413, "POST", {"json": {"names": ["a"] * (MAX_NAMES + 1)}}),
    "too many names (GET)": (413, "GET", {"params": [("name", "a")] * (MAX_NAMES + 1)}),
    "body over the bound": (413, "POST", {"json": {"names": ["a" * 200_000]}}),
    "chunked body over the bound": (413, "POST", {"content": _chunked_body(200_000), "headers": JSON}),
}


@pytest.mark.parametrize("case", list(BAD_REQUESTS))
def test_bad_request_gets_a_json_error(api, case):
    status, method, kwargs = BAD_REQUESTS[case]
    if case == "chunked body over the bound":
        kwargs = {**kwargs, "content": _chunked_body(200_000)}  # a generator is spent once
    response = api.request(method, "/v1/predict", **kwargs)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    assert "detail" in response.json() and "Traceback" not in response.text
    if status == 422:
        assert isinstance(response.json()["detail"], list)  # FastAPI's validation error body


@pytest.mark.parametrize("method, path, status", [("GET", "/v2/predict", 404), ("PUT", "/v1/predict", 405)])
def test_unknown_route_or_method_is_json(api, method, path, status):
    response = api.request(method, path)
    assert response.status_code == status and response.json()["detail"]


def test_server_process_scores_without_torch(served):
    # The numpy engine serves the CPU: the server process never loads torch's libraries.
    maps = Path(f"/proc/{served.process.pid}/maps")
    if not maps.exists():
        pytest.skip("needs /proc")
    assert "/torch/" not in maps.read_text()


def _http_post(address, path: str, body: bytes, split: int):
    """A raw HTTP/1.1 POST whose body is sent in two parts; returns the socket and the second part."""
    sock = socket.create_connection(address, timeout=20)
    head = f"POST {path} HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
    sock.sendall(f"{head}Content-Length: {len(body)}\r\n\r\n".encode() + body[:split])
    return sock


def _read_response(sock) -> tuple[int, bytes]:
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), body


@pytest.mark.parametrize("workers", [1, 2])
def test_sigterm_lets_the_request_in_flight_finish(tmp_path, workers):
    srv = ServeProcess("--model", "pretrained", "--home", str(tmp_path), "--workers", str(workers))
    try:
        body = json.dumps({"names": ["Satoshi", "Dovesky"]}).encode()
        sock = _http_post(srv.address, "/v1/predict", body, split=10)
        time.sleep(0.5)  # the server has the request's head: it is in flight
        srv.process.send_signal(signal.SIGTERM)
        time.sleep(1.0)
        assert srv.process.poll() is None, "".join(srv.stderr)  # still waiting for that request
        sock.sendall(body[10:])
        status, answer = _read_response(sock)
        assert status == 200 and [r["name"] for r in json.loads(answer)] == ["Satoshi", "Dovesky"]
        assert srv.process.wait(20) == 0
        with pytest.raises(httpx.TransportError):
            httpx.get(f"{srv.url}/healthz", timeout=2)
    finally:
        srv.stop()
    assert srv.stderr[-1].strip() == "stopped" and "Traceback" not in "".join(srv.stderr)


def test_without_the_extra_says_what_to_install(invoke, monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "fastapi", None)  # `import fastapi` now fails as if not installed
    result = invoke("serve", "--home", tmp_path)
    assert_user_error(result, 'pip install "namelang[serve]"', alone=True)


def test_unknown_model_and_busy_port_are_one_line(invoke, tmp_path):
    assert_user_error(invoke("serve", "--model", "nope", "--home", tmp_path), "nope")
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        result = invoke("serve", "--port", busy.getsockname()[1], "--home", tmp_path)
    assert_user_error(result, "cannot listen on 127.0.0.1")


def test_serve_help_imports_no_server_or_torch():
    code = (
        "import sys\nfrom namelang.cli.app import main\nsys.argv = ['namelang', 'serve', '--help']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print('LOADED=' + ','.join(m for m in ('fastapi', 'uvicorn', 'torch', 'pandas') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "--max-names" in out and out.rsplit("LOADED=", 1)[1].strip() == ""


class CountingClassifier:
    """The real classifier, counting its forward passes."""

    def __init__(self, clf):
        self.clf, self.batches = clf, []

    def __getattr__(self, name):
        return getattr(self.clf, name)

    def predict_proba(self, names):
        self.batches.append(len(names))
        return self.clf.predict_proba(names)


def test_scorer_shares_batches_and_never_holds_a_small_request_behind_a_large_one(clf):
    from namelang import ScoreOptions
    from namelang.server import BatchScorer

    top = ScoreOptions(top_k=1)

    async def scenario():
        counting = CountingClassifier(clf)
        scorer = BatchScorer(counting, batch_size=4)
        scorer.start()
        big = asyncio.ensure_future(scorer.predict(["Ivanov"] * 40, top))
        await asyncio.sleep(0)  # the big request's first batch is queued
        small = await scorer.predict(["Satoshi"], top)
        big_done_first = big.done()
        singles = await asyncio.gather(*(scorer.predict([n], top) for n in NAMES[:8]))
        await big
        await scorer.close()
        return small, big_done_first, singles, counting.batches

    small, big_done_first, singles, batches = asyncio.run(scenario())
    assert json.loads(small)[0]["name"] == "Satoshi" and not big_done_first
    assert [json.loads(s)[0]["name"] for s in singles] == NAMES[:8]
    assert max(batches) <= 4 and len(batches) < 10 + 1 + 8  # waiting requests were scored together


def test_cached_answers_equal_fresh_ones_and_the_cache_stays_bounded(clf):
    from namelang import ScoreOptions
    from namelang.server import BatchScorer

    async def scenario():
        cached, fresh = BatchScorer(clf, cache_size=5), BatchScorer(clf, cache_size=0)
        cached.start()
        fresh.start()
        answers = []
        for top_k, min_prob in [(3, 0.0), (3, 0.0), (1, 0.9), (3, 0.0)]:
            options = ScoreOptions(top_k=top_k, min_prob=min_prob)
            answers.append((await cached.predict(NAMES, options), await fresh.predict(NAMES, options)))
        size = len(cached._cache)
        await cached.close()
        await fresh.close()
        return answers, size

    answers, size = asyncio.run(scenario())
    for with_cache, without in answers:
        assert_same(json.loads(with_cache), json.loads(without))
    assert size == 5


def test_the_cache_tells_options_apart_by_numbers_never_given_twice(clf, monkeypatch):
    from namelang import ScoreOptions, server

    monkeypatch.setattr(server, "MAX_TOKENS", 2)
    scorer = server.BatchScorer(clf, cache_size=10)
    one, two, three = (ScoreOptions(top_k=k) for k in (1, 2, 3))
    assert scorer.token(one) == scorer.token(ScoreOptions(top_k=1)) == 0 and scorer.token(two) == 1
    # Past MAX_TOKENS the table starts again: cached answers of earlier options are missed, not reused.
    assert scorer.token(three) == 2 and scorer.token(one) == 3
    scorer._executor.shutdown()


# Every numeric field of every request, with non-finite (1e999 is valid JSON: infinity), huge, negative
# and string values: a 422 whose JSON body names the field, never a 500.
NUMBERS = ["1e999", "-1e999", "NaN", "Infinity", "-Infinity", "1e308", "-1", '"x"', '"inf"']
NUMERIC_FIELDS = {"/v1/predict": ["top_k", "min_prob", "coverage"], "/v1/mix": ["bootstrap", "seed"]}
HOSTILE_NUMBERS = [(path, field, value) for path, fields in NUMERIC_FIELDS.items() for field in fields
                   for value in NUMBERS if not (field == "seed" and value == "1e308")]  # fmt: skip


@pytest.mark.parametrize("path, field, value", HOSTILE_NUMBERS)
def test_hostile_numbers_are_422_naming_the_field(api, path, field, value):
    body = f'{{"names": ["Satoshi"], "{field}": {value}}}'.encode()
    response = api.post(path, content=body, headers=JSON)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/json"
    assert field in json.dumps(response.json()["detail"])


@pytest.mark.parametrize("field", ["top_k", "min_prob", "coverage"])
@pytest.mark.parametrize("value", ["inf", "-inf", "nan", "1e999", "1e308", "-1", "x"])
def test_hostile_numbers_in_a_query_are_422_naming_the_field(api, field, value):
    response = api.get("/v1/predict", params={"name": "Satoshi", field: value})
    assert response.status_code == 422, response.text
    assert field in json.dumps(response.json()["detail"])


@pytest.mark.parametrize("body", ['{"names": [1e999]}', '{"names": ["a"], "prior": {"English": 1e999}}',
                                  '{"names": ["a"], "prior": {"English": NaN}}', '{"names": [NaN, "a"]}'])  # fmt: skip
@pytest.mark.parametrize("path", ["/v1/predict", "/v1/mix"])
def test_non_finite_names_or_shares_are_422(api, body, path):
    response = api.post(path, content=body.encode(), headers=JSON)
    assert response.status_code == 422 and response.json()["detail"], response.text


def test_huge_prior_shares_weigh_as_their_ratio(api):
    def top(shares):
        body = {"names": ["Smith", "Papadopoulos"], "prior": shares, "top_k": 2}
        return api.post("/v1/predict", json=body).json()

    assert top({"English": 1e308, "Greek": 1e308}) == top({"English": 1, "Greek": 1})  # the sum is inf


def _raw_get(address, target: str) -> tuple[int, bytes, bytes]:
    """A GET sent as raw bytes (httpx refuses URLs over 64 KiB itself): (status, head, body)."""
    sock = socket.create_connection(address, timeout=20)
    data = b""
    try:
        sock.sendall(f"GET {target} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n".encode())
        while chunk := sock.recv(65536):
            data += chunk
    finally:
        sock.close()
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), head.lower(), body


def test_a_url_over_the_parsers_limit_is_a_json_414_that_says_to_post(served, api):
    status, _, _ = _raw_get(served.address, "/v1/predict?" + "&".join(["name=Satoshi"] * 5000))  # 65 KB
    assert status == 413  # read and answered: over this server's --max-names
    for count in (6000, 10_001, 200_000):  # 78 KB, 130 KB, 2.6 MB
        status, head, body = _raw_get(served.address, "/v1/predict?" + "&".join(["name=Satoshi"] * count))
        assert status == 414, body[:200]
        assert b"content-type: application/json" in head and "POST" in json.loads(body)["detail"]
    assert api.get("/healthz").json() == {"status": "ok"}  # the server goes on
    assert "Traceback" not in "".join(served.stderr)  # nor did the hostile numbers above leave one
