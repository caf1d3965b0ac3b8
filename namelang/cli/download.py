"""`namelang download`: fetch, verify and safely extract the names archive into <home>/raw/."""

from __future__ import annotations

from typing import Annotated

import typer

from namelang.cli import options, render
from namelang.data import DEFAULT_URL


def _hex_digest(value: str | None) -> str | None:
    """A malformed checksum is a usage mistake (exit 2), caught before anything is fetched."""
    from namelang.data.download import check_sha256
    from namelang.errors import NamelangError

    try:
        return None if value is None else check_sha256(value)
    except NamelangError as exc:
        raise typer.BadParameter(exc.worded(options.flag_words).removeprefix("--sha256 ")) from None


def download_cmd(
    url: Annotated[
        str, typer.Option("--url", help="http(s):// or file:// URL, or a path to a local .zip.")
    ] = DEFAULT_URL,
    sha256: Annotated[
        str | None, typer.Option("--sha256", help="Expected SHA-256 of the archive.", callback=_hex_digest)
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Download again even if <home>/raw/ exists.")
    ] = False,
    timeout: Annotated[
        float, typer.Option("--timeout", help="Seconds to wait for the server.", min=0.1)
    ] = 30.0,
    home: options.Home = None,
    quiet: options.Quiet = False,
    verbose: options.Verbose = False,
) -> None:
    """Download the names archive, verify it and extract it safely into <home>/raw/."""
    from namelang.data.corpus import count_labels, read_corpus
    from namelang.data.download import download

    workspace = options.workspace(home, quiet, verbose)
    with render.byte_progress() as progress:
        task = progress.add_task("download", total=None)

        def report(done: int, total: int | None) -> None:
            progress.update(task, completed=done, total=total)

        result = download(
            workspace.home, url=url, sha256=sha256, force=force, timeout=timeout, progress=report
        )
    if result.skipped:
        render.info(f"{result.raw_dir} is already there (from {result.url}); use --force to download again")
        return
    render.info(f"downloaded {result.size:,} bytes from {result.url}, sha256 {result.sha256}")
    counts = count_labels(read_corpus(result.raw_dir))
    rows = [(c.label, f"{c.lines:,}", f"{c.distinct:,}") for c in counts]
    footer = ["total", f"{sum(c.lines for c in counts):,}", f"{sum(c.distinct for c in counts):,}"]
    tbl = render.table(
        f"{result.raw_dir}",
        [("language", "left"), ("lines", "right"), ("distinct names", "right")],
        rows,
        footer,
    )
    render.out.summary(tbl)


def register(app: typer.Typer) -> None:
    app.command("download")(download_cmd)
