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

import re
from collections import Counter
from pathlib import Path

from namelang.data import packaged
from namelang.data.packaged import PackagedFile
from namelang.data.source import ARABIC_ROMANIZER, Source
from namelang.errors import NamelangError, literal

ROMANIZER_DB = PackagedFile(
    ARABIC_ROMANIZER, "arabic-name-romanizer", "0.2.0", "arabic_name_romanizer/resources/names.sqlite3",
    "d475ffa773e08a8bbe79a0ccd48d79336a84b25bda76a6a38fd53089392c8be0", "name index",
    "CC0-1.0 (Wikidata labels, via arabic-name-romanizer 0.2.0, MIT, UNICEF and contributors)",
)  # fmt: skip
# The Arab League less Somalia, Comoros and Djibouti, whose surnames are Somali, Comorian and Afar.
ARAB_STATES = frozenset("DZ BH EG IQ JO KW LB LY MA MR OM PS QA SA SD SY TN AE YE".split())
SOURCE = "wikidata"
_WORD = re.compile(r"^[^\W\d_]+(?:['’-][^\W\d_]+)*$")
QUERY = "select latin, country, source from units where role = 'surname'"


def surname_rows(data: bytes) -> list[tuple[str, str, str]]:
    """(latin, country, source) of every surname unit, read from the database's bytes in memory."""
    import sqlite3
    import tempfile

    # A file, not Connection.deserialize (Python 3.11+ only): opened read-only, removed with its folder.
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "index.sqlite"
        path.write_bytes(data)
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            return connection.execute(QUERY).fetchall()
        except sqlite3.DatabaseError as exc:
            raise NamelangError(f"not arabic-name-romanizer's name index: {literal(exc)}") from None
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
    data, where, digest = packaged.read_file(ROMANIZER_DB, path)
    names, dropped = arabic_surnames(surname_rows(data))
    provenance = (
        f"arabic-name-romanizer {ROMANIZER_DB.version}: {ROMANIZER_DB.member} (read from {where}), table "
        "units, role 'surname', "
        f"source 'wikidata', countries {' '.join(sorted(ARAB_STATES))}; distinct Latin spellings, all weak"
    )
    location = packaged.location(ROMANIZER_DB, path)
    rows = len(names)
    return Source(ARABIC_ROMANIZER, ARABIC_ROMANIZER, location, digest, ROMANIZER_DB.licence, provenance, names,
                  ["Arabic"] * rows, [True] * rows, {"Arab states": "Arabic"}, {}, dropped)  # fmt: skip
