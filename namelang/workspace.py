"""The workspace: one folder holding everything a user's commands make, and the atomic writes into it.

    <home>/
      raw/          the downloaded archive, extracted (`namelang download`)
      prepared/     train.csv, val.csv, test.csv, manifest.json (`namelang prepare`)
      models/       one folder per trained model, plus .default (see namelang/models/store.py)

`<home>` is the `home` a caller gives, else `$NAMELANG_HOME`, else `./data` when the current folder holds
a workspace there already (the default before 0.2), else the per-user folder (`user_home()`), so that a
model trained in one folder is found from any other. A command resolves it once, as a Workspace.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

LOCAL_HOME = Path("data")
APP = "namelang"


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def make_public(path: Path, directory: bool = False) -> None:
    """mkstemp/mkdtemp create private (0600/0700) entries; give them the user's usual permissions."""
    os.chmod(path, (0o777 if directory else 0o666) & ~_umask())


def user_home() -> Path:
    """The per-user workspace: `$XDG_DATA_HOME/namelang`, else the platform's place for an
    application's data (~/.local/share/namelang; ~/Library/Application Support/namelang on macOS;
    %LOCALAPPDATA%\\namelang on Windows)."""
    xdg = os.environ.get("XDG_DATA_HOME", "")
    if os.path.isabs(xdg):  # the XDG rule: a relative value is ignored
        return Path(xdg) / APP
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support" / APP
    if os.name == "nt":
        local = os.environ.get("LOCALAPPDATA")
        return (Path(local) if local else Path.home() / "AppData" / "Local") / APP
    return Path.home() / ".local" / "share" / APP


def is_workspace(path: Path) -> bool:
    """A folder a command has written into: it holds raw/, prepared/ or models/."""
    return any((Path(path) / part).is_dir() for part in ("raw", "prepared", "models"))


def locate_home(home: Path | str | None = None) -> tuple[Path, str]:
    """(the workspace folder, why): `given` (an argument), `env` ($NAMELANG_HOME), `local` (./data, a
    workspace already there) or `user` (`user_home()`)."""
    if home is not None:
        return Path(home).expanduser(), "given"
    if os.environ.get("NAMELANG_HOME"):
        return Path(os.environ["NAMELANG_HOME"]).expanduser(), "env"
    if is_workspace(LOCAL_HOME):
        return LOCAL_HOME, "local"
    return user_home(), "user"


def resolve_home(home: Path | str | None = None) -> Path:
    """`home`, else `$NAMELANG_HOME`, else ./data when it is a workspace, else the per-user folder."""
    return locate_home(home)[0]


@dataclass(frozen=True)
class Workspace:
    """The layout of one workspace folder; nothing is created until a command writes there."""

    home: Path

    @classmethod
    def resolve(cls, home: Workspace | Path | str | None = None) -> Workspace:
        return home if isinstance(home, Workspace) else cls(resolve_home(home))

    @property
    def raw(self) -> Path:
        return self.home / "raw"

    @property
    def prepared(self) -> Path:
        return self.home / "prepared"

    @property
    def models(self) -> Path:
        return self.home / "models"


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


@contextlib.contextmanager
def atomic_path(target: Path, suffix: str = "") -> Iterator[Path]:
    """Yield a temporary path beside `target`; rename it into place only if the block succeeds."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=suffix + ".tmp", dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    make_public(tmp_path)
    try:
        yield tmp_path
        os.replace(tmp_path, target)
    finally:
        tmp_path.unlink(missing_ok=True)


def write_text(target: Path, text: str) -> None:
    with atomic_path(target) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_json(target: Path, data) -> None:
    write_text(target, json.dumps(data, indent=2, ensure_ascii=False, sort_keys=False) + "\n")


@contextlib.contextmanager
def atomic_dir(target: Path) -> Iterator[Path]:
    """Yield a temporary folder beside `target`; on success it replaces `target` whole.

    The old folder is moved aside first and removed only once the new one is in place, so an
    interrupted run leaves either the old contents or the new, never a mix.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
    make_public(tmp, directory=True)
    try:
        yield tmp
        old = None
        if target.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".old", dir=target.parent))
            os.replace(target, old / target.name)
        os.replace(tmp, target)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
