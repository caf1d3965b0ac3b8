"""Fetch the names archive over HTTP(S), file:// or a local path; verify it; extract it safely.

Nothing is written into the workspace until the archive has been downloaded, verified and extracted
into a temporary folder, which then replaces `<home>/raw/` in one rename.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import socket
import stat
import tempfile
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath

from namelang.data import DEFAULT_URL
from namelang.errors import NamelangError, literal
from namelang.workspace import atomic_dir, write_json

RECORD = "download.json"
# The public archive expands to ~3 MB; anything far past this is not a names archive.
MAX_EXPANDED_BYTES = 512 * 1024 * 1024
MAX_MEMBERS = 10_000
MAX_RATIO = 200  # a member that compresses better than this is a zip bomb, not text
CHUNK = 64 * 1024

# (bytes done, total bytes or None when the server does not say)
ProgressCallback = Callable[[int, "int | None"], None]


@dataclass
class DownloadResult:
    raw_dir: Path
    url: str
    sha256: str
    size: int
    skipped: bool = False


def raw_dir(home: Path) -> Path:
    return Path(home) / "raw"


def check_sha256(value: str) -> str:
    """A SHA-256 as 64 lower-case hexadecimal digits; anything else is the caller's mistake."""
    value = value.strip().lower()
    if len(value) != 64 or any(c not in "0123456789abcdef" for c in value):
        raise NamelangError(f"{{sha256}} must be 64 hexadecimal digits, got {literal(value)!r}")
    return value


def download(
    home: Path,
    url: str = DEFAULT_URL,
    sha256: str | None = None,
    force: bool = False,
    timeout: float = 30.0,
    progress: ProgressCallback | None = None,
) -> DownloadResult:
    """Download, verify and extract the archive into `<home>/raw/`; a no-op when it is already there."""
    target = raw_dir(home)
    record = target / RECORD
    if record.exists() and not force:
        import json

        info = json.loads(record.read_text(encoding="utf-8"))
        return DownloadResult(target, info.get("url", ""), info.get("sha256", ""), info.get("size", 0), True)
    if sha256 is not None:
        sha256 = check_sha256(sha256)

    with _made_for_now(Path(home)), tempfile.TemporaryDirectory(prefix=".download-", dir=home) as tmp:
        archive = Path(tmp) / "archive.zip"
        digest, size = _fetch(url, archive, timeout, progress)
        if sha256 is not None and digest != sha256:
            raise NamelangError(
                f"checksum mismatch for {literal(url)}: expected sha256 {sha256}, got {digest}"
            )
        if not zipfile.is_zipfile(archive):
            raise NamelangError(f"{literal(url)} is not a zip archive")
        with atomic_dir(target) as staging:
            safe_extract(archive, staging)
            write_json(
                staging / RECORD,
                {
                    "url": url,
                    "sha256": digest,
                    "size": size,
                    "downloaded": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                },
            )
    return DownloadResult(target, url, digest, size)


@contextlib.contextmanager
def _made_for_now(folder: Path):
    """Make `folder` (and missing parents); if the block fails, remove again those it made, if empty:
    a failed first download leaves no empty workspace behind."""
    missing = [path for path in (folder, *folder.parents) if not path.exists()]  # deepest first
    folder.mkdir(parents=True, exist_ok=True)
    try:
        yield
    except BaseException:
        for path in missing:
            with contextlib.suppress(OSError):
                path.rmdir()
        raise


def _fetch(url: str, dest: Path, timeout: float, progress: ProgressCallback | None) -> tuple[str, int]:
    """Stream `url` into `dest`; return (sha256, bytes). Every failure becomes one NamelangError."""
    hint = "try {url} with a mirror or a local .zip file"
    parsed = urllib.parse.urlparse(url)
    if parsed.scheme in ("", "file") or (len(parsed.scheme) == 1 and url[1:3] == ":\\"):
        path = Path(urllib.request.url2pathname(parsed.path) if parsed.scheme == "file" else url)
        if not path.is_file():
            raise NamelangError(f"no such file: {literal(path)}")
        return _copy_stream(path.open("rb"), dest, path.stat().st_size, progress, url, hint)
    if parsed.scheme not in ("http", "https"):
        raise NamelangError(
            f"unsupported URL scheme {literal(parsed.scheme)!r} in {literal(url)}; use http(s)://, file:// or a path"
        )
    request = urllib.request.Request(url, headers={"User-Agent": "namelang"})
    try:
        response = urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as exc:
        raise NamelangError(
            f"download failed: HTTP {exc.code} {literal(exc.reason)} from {literal(url)}; {hint}"
        ) from exc
    except urllib.error.URLError as exc:
        raise NamelangError(
            f"download failed: cannot reach {literal(url)} ({literal(_reason(exc.reason))}); {hint}"
        ) from exc
    except TimeoutError as exc:
        raise NamelangError(f"download failed: {literal(url)} timed out after {timeout:g} s; {hint}") from exc
    except (OSError, http.client.HTTPException) as exc:
        raise NamelangError(f"download failed: {literal(url)}: {literal(_reason(exc))}; {hint}") from exc
    length = response.headers.get("Content-Length")
    total = int(length) if length and length.isdigit() else None
    return _copy_stream(response, dest, total, progress, url, hint)


def _copy_stream(source, dest: Path, total, progress, url: str, hint: str) -> tuple[str, int]:
    digest = hashlib.sha256()
    done = 0
    try:
        with source, open(dest, "wb") as out:
            while block := source.read(CHUNK):
                out.write(block)
                digest.update(block)
                done += len(block)
                if progress:
                    progress(done, total)
    except TimeoutError as exc:
        raise NamelangError(f"download failed: {literal(url)} timed out after {done} bytes; {hint}") from exc
    except http.client.IncompleteRead as exc:
        raise NamelangError(
            f"download failed: {literal(url)} ended early ({done + len(exc.partial)} of {total} bytes); {hint}"
        ) from exc
    except (OSError, http.client.HTTPException) as exc:
        raise NamelangError(f"download failed: {literal(url)}: {literal(_reason(exc))}; {hint}") from exc
    if total is not None and done != total:
        raise NamelangError(f"download failed: {literal(url)} ended early ({done} of {total} bytes); {hint}")
    return digest.hexdigest(), done


def _reason(reason) -> str:
    if isinstance(reason, socket.gaierror):
        return "name lookup failed"
    if isinstance(reason, ConnectionRefusedError):
        return "connection refused"
    if isinstance(reason, (TimeoutError, socket.timeout)):
        return "timed out"
    return str(reason) or type(reason).__name__


def safe_extract(archive: Path, dest: Path) -> list[Path]:
    """Extract `archive` into `dest`, refusing path escapes, links and archives that expand too far."""
    with zipfile.ZipFile(archive) as zf:
        members = zf.infolist()
        if len(members) > MAX_MEMBERS:
            raise NamelangError(f"refusing archive with {len(members)} members (limit {MAX_MEMBERS})")
        expanded = 0
        for info in members:
            name = info.filename
            pure = PurePosixPath(name.replace("\\", "/"))
            if pure.is_absolute() or name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
                raise NamelangError(f"refusing archive member with an absolute path: {literal(name)}")
            if ".." in pure.parts:
                raise NamelangError(f"refusing archive member that leaves the folder: {literal(name)}")
            if stat.S_ISLNK(info.external_attr >> 16):
                raise NamelangError(f"refusing archive member that is a symbolic link: {literal(name)}")
            expanded += info.file_size
            if expanded > MAX_EXPANDED_BYTES:
                raise NamelangError(f"refusing archive that expands past {MAX_EXPANDED_BYTES >> 20} MiB")
            if (
                info.compress_size
                and info.file_size / info.compress_size > MAX_RATIO
                and info.file_size > 1 << 20
            ):
                raise NamelangError(
                    f"refusing archive member with a suspicious compression ratio: {literal(name)}"
                )
        written = []
        root = dest.resolve()
        for info in members:
            out = (dest / info.filename).resolve()
            if root not in out.parents and out != root:
                raise NamelangError(
                    f"refusing archive member that leaves the folder: {literal(info.filename)}"
                )
            if info.is_dir():
                out.mkdir(parents=True, exist_ok=True)
                continue
            out.parent.mkdir(parents=True, exist_ok=True)
            # Count what is really written: the header's sizes can lie.
            budget = info.file_size
            with zf.open(info) as src, open(out, "wb") as dst:
                while block := src.read(CHUNK):
                    budget -= len(block)
                    if budget < 0:
                        raise NamelangError(
                            f"refusing archive member larger than it declares: {literal(info.filename)}"
                        )
                    dst.write(block)
            written.append(out)
    return written
