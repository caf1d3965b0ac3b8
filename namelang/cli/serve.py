"""`namelang serve`: the model behind an HTTP JSON API (FastAPI + uvicorn, the `serve` extra)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

import typer

from namelang.cli import options, render

INSTALL_HINT = 'the server needs FastAPI and uvicorn: pip install "namelang[serve]"'


@dataclass(frozen=True)
class ServeArgs(options.CommonArgs):
    model: options.Model = None
    host: Annotated[
        str, typer.Option("--host", help="Address to listen on; 0.0.0.0 opens it to the network.")
    ] = "127.0.0.1"
    port: Annotated[int, typer.Option("--port", "-p", min=0, max=65535, help="0 picks a free port.")] = 8000
    workers: Annotated[
        int, typer.Option("--workers", "-w", min=1, help="Server processes, each with its own model.")
    ] = 1
    max_names: Annotated[int, typer.Option("--max-names", min=1, help="Most names in one request.")] = 10_000
    cache: Annotated[
        int, typer.Option("--cache", min=0, help="Distinct names whose answers are kept; 0: none.")
    ] = 100_000


@options.takes(ServeArgs)
def serve_cmd(args: ServeArgs) -> None:
    """Serve predictions over HTTP: /v1/predict, /v1/models, /healthz, /readyz; docs at /docs."""
    from namelang.errors import NamelangError

    workspace = args.start()
    try:
        import fastapi  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError:
        raise NamelangError(INSTALL_HINT) from None  # render.error escapes markup itself
    options.one_blas_thread()  # the scoring thread shares the cores with the event loop
    from namelang import server
    from namelang.inference import Classifier

    # Loaded here first, so that a bad model is one line before anything listens.
    clf = Classifier.load(args.model, workspace, device="cpu")
    render.model_in_use(clf)
    settings = server.Settings(
        model=args.model, home=str(workspace.home), max_names=args.max_names, cache_size=args.cache
    )
    sock = server.bind(args.host, args.port)
    url = server.url_of(sock)
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        render.warn(f"listening on {args.host}: anyone who can reach this machine can use the API")
    render.info(f"listening on {url} (docs: {url}/docs); Ctrl-C stops")
    log_level = "info" if args.verbose else "warning"
    server.run(
        settings, sock, args.workers, classifier=clf if args.workers == 1 else None, log_level=log_level
    )
    render.info("stopped")


def register(app: typer.Typer) -> None:
    app.command("serve")(serve_cmd)
