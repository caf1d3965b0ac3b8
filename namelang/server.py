"""`namelang serve`: a JSON API over one loaded `Classifier` (FastAPI on uvicorn; the `serve` extra).

The model is loaded once, in the app's lifespan, and scored on one worker thread by a `BatchScorer`:
requests that arrive while a batch is being scored share the next batch, and a large request is
scored a batch at a time, so it never holds other requests up for more than one batch.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import signal
import socket
from collections import OrderedDict, deque
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass
from functools import partial
from typing import Annotated, Any, Literal

from fastapi import APIRouter, FastAPI, HTTPException, Query, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from namelang import __version__
from namelang.errors import NamelangError, literal
from namelang.inference import Classifier
from namelang.scoring.adjust import names_mix, rows_adjustment
from namelang.scoring.options import MixOptions, ScoreOptions
from namelang.scoring.records import names_json

SETTINGS_ENV = "NAMELANG_SERVE_SETTINGS"  # how `--workers N` hands the settings to its worker processes
MAX_TOP_K = 100
MAX_TOKENS = 10_000  # distinct options the batch scorer's cache tells apart at a time


@dataclass(frozen=True)
class Settings:
    model: str | None = None
    home: str | None = None
    max_names: int = 10_000
    cache_size: int = 100_000

    @property
    def max_body_bytes(self) -> int:
        """The request body bound: room for `max_names` long names (a name over the model's limit is cut)."""
        return 64 * 1024 + 256 * self.max_names


# ---- request and response models (the OpenAPI schema at /docs is built from these) ----


class ScoringOptions(BaseModel):
    """How names are scored and reported; shared by GET (query) and POST (body)."""

    top_k: int = Field(3, ge=1, le=MAX_TOP_K, description="Labels per name (at most the model's labels).")
    min_prob: float = Field(
        0.0,
        ge=0.0,
        le=1.0,
        allow_inf_nan=False,
        description="Below this top probability the first prediction is {label: null, probability: null}: "
        "no language (the label `unknown` is the model's own answer: a language outside the 18).",
    )
    prior: Literal["train", "uniform", "estimate"] | str | dict[str, float] = Field(
        "train",
        description="Re-weight the probabilities to this label prior: the model's own (train), uniform, "
        "the request's own mix estimated by EM over its names (estimate), a source the model was trained "
        "on (its card's source_priors, e.g. archive), or {language: share}.",
    )
    coverage: float | None = Field(
        None,
        gt=0.0,
        lt=1.0,
        allow_inf_nan=False,
        description="Add `prediction_set`: the languages of a split-conformal set holding the true one "
        "for this share of names on average (0.5-0.99 by 0.01, 0.995, 0.999).",
    )
    explain: bool = Field(
        False,
        description="Add `script_path`: how each name was scored: 'model', 'transliterated' (Cyrillic, "
        "Greek, then the model), 'lexicon' (a training name) or 'rule: …' (Han, Kana, Hangul, Arabic script).",
    )

    def score_options(self) -> ScoreOptions:
        """The request's options as every path takes them."""
        return ScoreOptions(top_k=self.top_k, min_prob=self.min_prob, prior=self.prior, coverage=self.coverage,
                            explain=self.explain)  # fmt: skip


class PredictRequest(ScoringOptions):
    model_config = ConfigDict(json_schema_extra={"examples": [{"names": ["Satoshi", "Dovesky"], "top_k": 3}]})
    names: list[str] = Field(min_length=1, description="Names, scored in order; a blank one gets no labels.")


class PredictQuery(ScoringOptions):
    name: list[str] = Field(min_length=1, description="A name; repeat the parameter for several.")


class LabelProbability(BaseModel):
    label: str | None = Field(description="null: the top probability was below `min_prob`.")
    probability: float | None


class NamePrediction(BaseModel):
    name: str
    predictions: list[LabelProbability]
    prediction_set: list[str] | None = Field(None, description="With `coverage`: most probable first.")
    script_path: str | None = Field(None, description="With `explain`: '' for a blank name.")


class MixRequest(BaseModel):
    names: list[str] = Field(min_length=1, description="The table's names (blank ones are left out).")
    prior: Literal["train", "uniform", "estimate"] | str | dict[str, float] = Field(
        "train", description="The prior the top-1 counts and probability sums are taken under."
    )
    bootstrap: int = Field(200, ge=0, le=2000, description="Resamples for the EM estimate's 95% interval.")
    seed: int = Field(0, ge=0, description="Seed of the bootstrap.")


class ModelCard(BaseModel):
    name: str
    arch: str | None
    labels: list[str]
    max_length: int
    parameters: int | None
    created: str | None
    metrics: dict[str, float]


class ModelList(BaseModel):
    models: list[ModelCard]


class Status(BaseModel):
    status: str


class ErrorBody(BaseModel):
    detail: Any


ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorBody, "description": "Malformed JSON"},
    413: {"model": ErrorBody, "description": "Too many names, or a body over the size bound"},
}


# ---- scoring (namelang.scoring: the same cells and records as `namelang predict`) ----


def _array(texts: list[str]) -> bytes:
    """Records (JSON texts) as one JSON array; a lone surrogate (from a JSON "\\ud800" escape) goes back
    out as that escape."""
    return f"[{', '.join(texts)}]".encode("utf-8", "backslashreplace")


def adjusted_records(clf: Classifier, names: list[str], options: ScoreOptions) -> bytes:
    """The records of `names` under a prior and with prediction sets, scored as one table (an estimated
    prior is estimated over the whole request), on the scoring thread."""
    probs = clf.predict_proba(names)
    adjustment = rows_adjustment(clf, options, probs, files=False)
    return _array(names_json(clf, names, probs, options, adjustment))


def request_mix(clf: Classifier, request: MixRequest) -> dict:
    """The language mix of the request's names (`namelang predict --summary`'s JSON)."""
    mix = names_mix(clf, request.names, request.prior, MixOptions(bootstrap=request.bootstrap, seed=request.seed),
                    files=False)  # fmt: skip
    return mix.as_dict()


@dataclass
class _Job:
    names: list[str]
    options: ScoreOptions  # plain: a name's record depends on the name alone
    result: asyncio.Future
    token: int  # stands for `options` in the cache's keys (`BatchScorer.token`)

    def keys(self) -> list[tuple[str, int]]:
        return [(name, self.token) for name in self.names]


class BatchScorer:
    """Scores names on one thread, one batch at a time; jobs that wait meanwhile share the next batch.

    The answers for the last `cache_size` distinct (name, options) are kept, as JSON text: surnames
    repeat a lot. The cache is touched only on the scoring thread, so it needs no lock. Its keys are
    (name, token): a number stands for the options, hashed once per job, not once per name and look-up.
    """

    def __init__(self, clf: Classifier, batch_size: int = Classifier.BATCH, cache_size: int = 0):
        self.clf = clf
        self.batch_size = batch_size
        self.cache_size = cache_size
        self._cache: OrderedDict[tuple[str, int], str] = OrderedDict()
        self._tokens: dict[ScoreOptions, int] = {}  # touched on the event loop only
        self._next_token = 0
        self._pending: deque[_Job] = deque()
        self._wakeup = asyncio.Event()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="namelang-scoring")
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._serve())

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        self._executor.shutdown(wait=True)

    def token(self, options: ScoreOptions) -> int:
        """The number that stands for `options` in the cache's keys; never given to other options (past
        MAX_TOKENS options the table starts again: earlier answers are then only missed, not mixed up)."""
        token = self._tokens.get(options)
        if token is None:
            if len(self._tokens) >= MAX_TOKENS:
                self._tokens.clear()
            token = self._tokens[options] = self._next_token
            self._next_token += 1
        return token

    async def predict(self, names: list[str], options: ScoreOptions) -> bytes:
        """The JSON array of the names' records (`options` plain: no prior, no sets); a long list goes in
        one batch at a time, in order."""
        loop = asyncio.get_running_loop()
        parts, token = [], self.token(options)
        for start in range(0, len(names), self.batch_size):
            batch = names[start : start + self.batch_size]
            job = _Job(batch, options, loop.create_future(), token)
            self._pending.append(job)
            self._wakeup.set()
            parts.append(await job.result)
        return b"[" + b",".join(part for part in parts if part) + b"]"

    async def call(self, function, *args):
        """`function(*args)` on the scoring thread (a request scored whole, not through the batches)."""
        return await asyncio.get_running_loop().run_in_executor(self._executor, function, *args)

    def _take_batch(self) -> list[_Job]:
        jobs, size = [], 0
        while self._pending and (not jobs or size + len(self._pending[0].names) <= self.batch_size):
            job = self._pending.popleft()
            if not job.result.done():  # its client may have gone
                jobs.append(job)
                size += len(job.names)
        return jobs

    def _score(self, jobs: list[_Job]) -> list[bytes]:
        """On the scoring thread: one forward pass for the names with no cached answer, then each job's JSON."""
        cache = self._cache if self.cache_size else OrderedDict()
        wanted = [job.keys() for job in jobs]
        missing = list(dict.fromkeys(key for keys in wanted for key in keys if key not in cache))
        if missing:
            names = list(dict.fromkeys(name for name, _ in missing))
            probs = self.clf.predict_proba(names)
            row = {name: i for i, name in enumerate(names)}
            options = {job.token: job.options for job in jobs}
            for token in dict.fromkeys(token for _, token in missing):
                group = [name for name, of in missing if of == token]
                texts = names_json(self.clf, group, probs[[row[name] for name in group]], options[token])
                cache.update(zip([(name, token) for name in group], texts))
        results = []
        for keys in wanted:
            # A lone surrogate (from a JSON "\ud800" escape) goes back out as that escape.
            results.append(", ".join(cache[key] for key in keys).encode("utf-8", "backslashreplace"))
            if self.cache_size:
                for key in keys:
                    cache.move_to_end(key)
        while len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)  # the least recently used
        return results

    async def _serve(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            while jobs := self._take_batch():
                try:
                    results = await loop.run_in_executor(self._executor, self._score, jobs)
                except Exception as exc:  # a bug: each waiting request answers 500, the scorer goes on
                    for job in jobs:
                        if not job.result.done():
                            job.result.set_exception(exc)
                    continue
                for job, result in zip(jobs, results):
                    if not job.result.done():
                        job.result.set_result(result)


# ---- the app ----


def model_card(clf: Classifier) -> ModelCard:
    card = clf.card
    best = {
        "val_accuracy": card.best.val_accuracy,
        "val_macro_f1": card.best.val_macro_f1,
        "val_loss": card.best.val_loss,
    }
    metrics = {k: float(v) for k, v in best.items() if v is not None}
    return ModelCard(
        name=clf.name,
        arch=card.arch,
        labels=clf.labels,
        max_length=clf.max_length,
        parameters=card.parameters,
        created=card.created,
        metrics=metrics,
    )


class BodyLimit:
    """ASGI middleware: a request body over `max_bytes` is answered 413 (JSON) and never handed on.

    A declared Content-Length over the bound is refused unread; a chunked body is read here up to it.
    """

    def __init__(self, app, max_bytes: int):
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD"):
            return await self.app(scope, receive, send)
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.max_bytes:
            return await self._too_large(scope, receive, send)
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] != "http.request":  # the client left
                return
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > self.max_bytes:
                return await self._too_large(scope, receive, send)
            more = message.get("more_body", False)
        replayed = False

        async def replay():
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": b"".join(chunks), "more_body": False}

        await self.app(scope, replay, send)

    async def _too_large(self, scope, receive, send):
        detail = f"request body over {self.max_bytes:,} bytes"
        await JSONResponse({"detail": detail}, status_code=413)(scope, receive, send)


async def _validation_error(request: Request, exc: RequestValidationError):
    """Malformed JSON is a 400; anything else keeps FastAPI's 422 body, with non-finite numbers as text."""
    bad_json = [e for e in exc.errors() if e.get("type") == "json_invalid"]
    if bad_json:
        reason = (bad_json[0].get("ctx") or {}).get("error", "invalid JSON")
        return JSONResponse({"detail": f"malformed JSON: {reason}"}, status_code=400)
    # `1e999` is valid JSON (infinity), but the `input` echoed back could not be written as JSON.
    return JSONResponse({"detail": _finite(jsonable_encoder(exc.errors()))}, status_code=422)


def _finite(value):
    """`value` with each infinite or NaN float replaced by its text ('inf', '-inf', 'nan')."""
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_finite(item) for item in value]
    return value


async def _internal_error(request: Request, exc: Exception):
    return JSONResponse({"detail": "internal server error"}, status_code=500)


async def _predict(request: Request, names: list[str], scoring: ScoringOptions) -> Response:
    """Plain options from the batched, cached path; a prior or sets scored as one table."""
    state = request.app.state
    _check_size(state, names)
    options = scoring.score_options()
    if options.plain:
        body = await state.scorer.predict(names, options)
    else:
        body = await _user_errors(state.scorer.call(adjusted_records, state.classifier, names, options))
    return Response(body, media_type="application/json")


def _check_size(state, names: list[str]) -> None:
    if len(names) > state.settings.max_names:
        raise HTTPException(
            413, f"{len(names):,} names; this server takes at most {state.settings.max_names:,}"
        )


async def _user_errors(pending):
    """A NamelangError (an unknown language in `prior`, a coverage the model has no threshold for) is 422."""
    try:
        return await pending
    except NamelangError as exc:
        raise HTTPException(422, str(exc)) from None


DOCS_ASSETS = "/docs-assets"


def docs_assets():
    """The folder of Swagger UI's and ReDoc's JS and CSS that fastapi-offline ships (MIT; Swagger UI is
    Apache-2.0, ReDoc MIT), so /docs needs no network; None without it (FastAPI's CDN pages then)."""
    from pathlib import Path

    try:
        import fastapi_offline
    except ImportError:
        return None
    folder = Path(fastapi_offline.__file__).parent / "static"
    return folder if (folder / "swagger-ui-bundle.js").is_file() else None


def add_offline_docs(app: FastAPI, assets) -> None:
    """/docs (Swagger UI) and /redoc on the packaged assets, mounted at DOCS_ASSETS."""
    from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
    from fastapi.responses import HTMLResponse
    from fastapi.staticfiles import StaticFiles

    app.mount(DOCS_ASSETS, StaticFiles(directory=str(assets)), name="docs-assets")

    def page(render, title: str, **files: str):
        """A docs page whose script, style and icon URLs (`files`: argument -> asset) are this server's."""

        async def serve(request: Request) -> HTMLResponse:
            root = request.scope.get("root_path", "")
            urls = {argument: f"{root}{DOCS_ASSETS}/{name}" for argument, name in files.items()}
            return render(openapi_url=f"{root}{app.openapi_url}", title=f"{app.title} - {title}", **urls)

        return serve

    swagger = page(get_swagger_ui_html, "Swagger UI", swagger_js_url="swagger-ui-bundle.js",
                   swagger_css_url="swagger-ui.css", swagger_favicon_url="favicon.png")  # fmt: skip
    redoc = page(partial(get_redoc_html, with_google_fonts=False), "ReDoc", redoc_js_url="redoc.standalone.js",
                 redoc_favicon_url="favicon.png")  # fmt: skip
    app.get("/docs", include_in_schema=False)(swagger)
    app.get("/redoc", include_in_schema=False)(redoc)


def _new_app(lifespan) -> FastAPI:
    """The FastAPI app with its docs pages: the packaged assets where fastapi-offline is installed."""
    assets = docs_assets()
    app = FastAPI(
        title="namelang",
        version=__version__,
        summary="Guess which language a surname comes from.",
        lifespan=lifespan,
        strict_content_type=False,  # a body without a Content-Type is read as JSON too
        **({"docs_url": None, "redoc_url": None} if assets is not None else {}),
    )
    if assets is not None:
        add_offline_docs(app, assets)
    return app


# ---- the routes: each reads the request, hands the names to namelang.scoring, answers ----

api = APIRouter(prefix="/v1")
health = APIRouter()


@api.get("/predict", response_model=list[NamePrediction], responses=ERRORS)
async def predict_get(request: Request, query: Annotated[PredictQuery, Query()]) -> Response:
    """Top labels of one name (`?name=Satoshi`), or several (`?name=A&name=B`)."""
    return await _predict(request, query.name, query)


@api.post("/predict", response_model=list[NamePrediction], responses=ERRORS)
async def predict_post(request: Request, body: PredictRequest) -> Response:
    """Top labels of each name, in input order: the records of `namelang predict --format json`."""
    return await _predict(request, body.names, body)


@api.post("/mix", responses=ERRORS)
async def mix(request: Request, body: MixRequest) -> dict:
    """The language mix of a list of names: per language the top-1 count, the probability sum and
    the EM estimate with a bootstrap interval (the JSON of `namelang predict --summary`)."""
    state = request.app.state
    _check_size(state, body.names)
    return await _user_errors(state.scorer.call(request_mix, state.classifier, body))


@api.get("/models", response_model=ModelList)
async def models(request: Request) -> ModelList:
    """The loaded model's card: name, architecture, labels, validation metrics."""
    return ModelList(models=[model_card(request.app.state.classifier)])


@health.get("/healthz", response_model=Status)
async def healthz() -> Status:
    """The process is alive."""
    return Status(status="ok")


@health.get("/readyz", response_model=Status, responses={503: {"model": Status}})
async def readyz(request: Request):
    """The model is loaded and taking requests."""
    if request.app.state.scorer is None:
        return JSONResponse({"status": "starting"}, status_code=503)
    return Status(status="ready")


def create_app(settings: Settings, classifier: Classifier | None = None) -> FastAPI:
    """The app; `classifier` when it is already loaded, else the lifespan loads `settings.model`."""

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        clf = classifier or Classifier.load(settings.model, settings.home, device="cpu")
        scorer = BatchScorer(clf, cache_size=settings.cache_size)
        scorer.start()
        app.state.classifier, app.state.scorer = clf, scorer
        yield
        app.state.scorer = None
        await scorer.close()

    app = _new_app(lifespan)
    app.state.settings, app.state.scorer = settings, None
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(Exception, _internal_error)
    app.include_router(api)
    app.include_router(health)
    return app


def app_from_environment() -> FastAPI:
    """The app factory each `--workers` process calls; the settings come from the parent's environment."""
    return create_app(Settings(**json.loads(os.environ[SETTINGS_ENV])))


# ---- running ----


def bind(host: str, port: int) -> socket.socket:
    """A listening socket (port 0: a free one), or one line saying why not."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        raise NamelangError(
            f"cannot listen on {literal(host)}:{port}: {literal(exc.strerror or exc)}"
        ) from None
    sock.set_inheritable(True)
    return sock


def url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def run(
    settings: Settings, sock: socket.socket, workers: int = 1, classifier=None, log_level: str = "warning"
) -> None:
    """Serve until SIGINT/SIGTERM, letting in-flight requests finish (a second Ctrl-C forces the exit)."""
    import uvicorn

    common = dict(
        log_level=log_level,
        access_log=log_level in ("info", "debug"),
        lifespan="on",
        server_header=False,
        timeout_graceful_shutdown=30,
        http="namelang.server_http:JSONErrorsProtocol",  # JSON errors from the HTTP parser too
    )
    # uvicorn re-raises the signal that stopped it once it has shut down; these handlers take it.
    previous = {sig: signal.signal(sig, lambda *_: None) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        if workers == 1:
            uvicorn.Server(uvicorn.Config(create_app(settings, classifier), **common)).run(sockets=[sock])
        else:
            from uvicorn.supervisors import Multiprocess

            os.environ[SETTINGS_ENV] = json.dumps(asdict(settings))
            config = uvicorn.Config(
                "namelang.server:app_from_environment", factory=True, workers=workers, **common
            )
            Multiprocess(config, sockets=[sock]).run()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        sock.close()
