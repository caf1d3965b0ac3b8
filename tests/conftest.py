"""Shared fixtures: a names archive built from tests/fixtures, a loopback HTTP server, tiny corpora, a CLI runner.

No test reads anything outside the repository: `tests/fixtures/names/` holds 502 lines taken from the
names archive (18 languages, the archive's own repeats and cross-labelled names kept), and the zip the
download tests serve is built from it at import time, byte for byte the same on every run.
"""

from __future__ import annotations

import atexit
import hashlib
import http.server
import io
import os
import shutil
import tempfile
import threading
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from namelang.cli.app import app

# Tiny models on a shared 2-core machine: one torch thread (here and in the `namelang` processes the
# tests start) ran a tiny training run in 1.1 s, two threads fighting for the cores in 11 s.
os.environ.setdefault("OMP_NUM_THREADS", "1")
# No test reads or writes the real per-user workspace (~/.local/share/namelang): a command run without
# --home or NAMELANG_HOME, here or in a `namelang` process a test starts, lands in this folder instead.
os.environ["XDG_DATA_HOME"] = tempfile.mkdtemp(prefix="namelang-tests-xdg-")
atexit.register(shutil.rmtree, os.environ["XDG_DATA_HOME"], ignore_errors=True)

FIXTURE_NAMES = Path(__file__).resolve().parent / "fixtures" / "names"


def build_archive(folder: Path = FIXTURE_NAMES) -> bytes:
    """A zip in the names archive's layout (data/names/<Language>.txt); fixed timestamps, so fixed bytes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for member in ("data/", "data/names/"):
            zf.writestr(zipfile.ZipInfo(member, date_time=(2017, 3, 24, 0, 0, 0)), b"")
        for path in sorted(folder.glob("*.txt")):
            info = zipfile.ZipInfo(f"data/names/{path.name}", date_time=(2017, 3, 24, 0, 0, 0))
            zf.writestr(info, path.read_bytes(), compress_type=zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


ARCHIVE_BYTES = build_archive()
ARCHIVE_SHA256 = hashlib.sha256(ARCHIVE_BYTES).hexdigest()


def assert_user_error(result, *words: str, alone: bool = False) -> str:
    """Exit 1, no traceback, and one `error:` line on stderr (the last) holding `words`.

    `alone`: nothing else on stderr either (commands that print no banner before failing).
    """
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert lines and lines[-1].startswith("error:"), result.stderr
    assert sum(line.startswith("error:") for line in lines) == 1, result.stderr
    if alone:
        assert len(lines) == 1, result.stderr
    for word in words:
        assert word in lines[-1], lines[-1]
    return lines[-1]


@pytest.fixture(scope="session")
def archive(tmp_path_factory) -> Path:
    """The fixture's names archive as a zip file (18 languages, 502 lines); its sha256 is ARCHIVE_SHA256."""
    path = tmp_path_factory.mktemp("archive") / "names.zip"
    path.write_bytes(ARCHIVE_BYTES)
    return path


class _Handler(http.server.BaseHTTPRequestHandler):
    routes: dict[str, tuple[int, bytes, int | None]] = {}

    def do_GET(self):  # noqa: N802
        status, body, declared = self.routes.get(self.path, (404, b"not found", None))
        self.send_response(status)
        self.send_header("Content-Type", "application/zip")
        self.send_header("Content-Length", str(declared if declared is not None else len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class LoopbackServer:
    """Serves byte strings on 127.0.0.1; `truncate=True` promises more bytes than it sends."""

    def __init__(self):
        self.routes: dict[str, tuple[int, bytes, int | None]] = {}
        handler = type("Handler", (_Handler,), {"routes": self.routes})
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def serve(self, path: str, body: bytes, status: int = 200, truncate: bool = False) -> str:
        self.routes[path] = (status, body, len(body) * 2 if truncate else None)
        return f"http://127.0.0.1:{self.httpd.server_address[1]}{path}"

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    srv = LoopbackServer()
    yield srv
    srv.close()


def write_zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def write_folder(folder: Path, data: dict[str, list[str]]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for label, names in data.items():
        (folder / f"{label}.txt").write_text("\n".join(names) + "\n", encoding="utf-8")
    return folder


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def invoke(runner):
    def _invoke(*args, input=None):
        return runner.invoke(app, [str(a) for a in args], input=input)

    return _invoke


TINY_LABELS = ("Arabic", "Chinese", "Greek", "Japanese", "Russian")


def tiny_corpus(folder: Path, per_label: int = 40) -> Path:
    """A small real corpus: the first distinct names of a few languages of the fixture (the archive's first)."""
    data = {}
    for label in TINY_LABELS:
        lines = (FIXTURE_NAMES / f"{label}.txt").read_text(encoding="utf-8").splitlines()
        data[label] = list(dict.fromkeys(n.strip() for n in lines if n.strip()))[:per_label]
    return write_folder(folder, data)


@pytest.fixture(scope="session")
def tiny_prepared(tmp_path_factory) -> Path:
    """A workspace with a tiny prepared split (5 languages x 40 names); copy it before writing to it."""
    from namelang.data.corpus import read_corpus
    from namelang.data.split import prepare

    home = tmp_path_factory.mktemp("tiny")
    prepare(read_corpus(tiny_corpus(home / "src")), home, val=0.2, test=0.2, seed=0)
    return home


TINY_MODEL = ("--hidden", "16", "--embedding-dim", "8", "--epochs", "2", "--batch-size", "16")


@pytest.fixture
def tiny_home(tiny_prepared, tmp_path) -> Path:
    import shutil

    home = tmp_path / "home"
    shutil.copytree(tiny_prepared, home)
    return home


@pytest.fixture(scope="session")
def tiny_trained(tiny_prepared, tmp_path_factory) -> Path:
    """A workspace holding the tiny split and one tiny GRU named `tiny` (the default)."""
    import shutil

    home = tmp_path_factory.mktemp("trained") / "home"
    shutil.copytree(tiny_prepared, home)
    result = CliRunner().invoke(
        app, ["train", "--name", "tiny", "--home", str(home), *TINY_MODEL, "--epochs", "4"]
    )
    assert result.exit_code == 0, result.output
    return home


def sigint_as_a_terminal_sends_it() -> None:
    """`preexec_fn` of a process a test interrupts: a job started in the background of a shell inherits
    SIGINT ignored, and Python then never raises KeyboardInterrupt; a terminal's Ctrl-C is not ignored."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_DFL)


def fake_wheel(folder: Path, packaged, data: bytes) -> Path:
    """A wheel of `packaged` (a data.packaged.PackagedFile) holding `data` as its file, and a package that
    exits when imported: the sources must read the file without importing the package."""
    path = folder / f"{packaged.dist.replace('-', '_')}-{packaged.version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(f"{packaged.module}/__init__.py", "raise SystemExit('imported')\n")
        zf.writestr(packaged.member, data)
    return path
