"""The `zxcvbn-pl` source: Polish surnames from the PESEL register, as packed in zxcvbn-pl 0.3.0.

`zxcvbn_pl/data/pl_last_names.marisa` holds every surname borne by at least 200 people in the Polish
PESEL register (CC0, dane.gov.pl dataset 1681, via @zxcvbn-ts/language-pl), male and female forms at
one frequency rank, lower-cased, each with a diacritics-free variant and, from the SGJP grammatical
dictionary, its inflected forms at twice its rank (nowak: 1; nowaka, nowakowi …: 2). Only the
nominative surnames are wanted, so:

- a word at rank 2r that a word at rank r turns into by a common ending change (-ek -> -ka, -a -> -iej;
  seen at least MIN_ENDING times in the file) is an inflected form and is dropped;
- a diacritics-free variant is dropped when its rank also holds the spelling with diacritics;
- a surname SGJP gives no Polish declension for is dropped: mostly immigrants' names in their own
  romanisation (Ivanov, Shevchenko, Kim, Wang), which a Polish label would mislabel; so is one with
  letters Polish does not use (Müller, Nguyễn). Some foreign names remain (Nguyen, Smith, Schmidt: SGJP
  declines them); they keep a second label where another strong list holds them.

The rest are capitalised and kept, both -ski and -ska (a table of real names holds both), as a strong
list: a Polish surname on a German or Czech register (Konieczny, Dudek) keeps its Polish label.
"""

from __future__ import annotations

import unicodedata
from collections import Counter, defaultdict
from pathlib import Path

from namelang.data import packaged
from namelang.data.packaged import PackagedFile
from namelang.data.source import ZXCVBN_PL, Source
from namelang.errors import NamelangError

ZXCVBN_PL_FILE = PackagedFile(
    ZXCVBN_PL, "zxcvbn-pl", "0.3.0", "zxcvbn_pl/data/pl_last_names.marisa",
    "a8f5c4615483bc6c8a5282ab2c876c67b55fa52e3fc65f83273d13538cbc39fa", "surname list",
    "CC0-1.0 (PESEL surname register, dane.gov.pl dataset 1681, via @zxcvbn-ts/language-pl, MIT; "
    "packed by zxcvbn-pl 0.3.0, MIT; inflections from SGJP, BSD-2-Clause, used only to find the lemmas)",
)  # fmt: skip
EXTRA = "pip install 'namelang[polish]'"
POLISH_LETTERS = frozenset("aąbcćdeęfghijklłmnńoóprsśtuwyzźż-")  # no q, v, x, ü …
MIN_ENDING = 10  # an ending change seen fewer times is a chance likeness (lis -> lisowski), not a case
MAX_STEM_CHANGE = 3  # letters of the lemma an inflection may change (synowiec -> synowca: 'iec')


def load_ranks(data: bytes) -> dict[str, int]:
    """word -> rank from a marisa RecordTrie('<I') (needs marisa-trie, the `polish` extra)."""
    try:
        import marisa_trie
    except ImportError:
        raise NamelangError(f"the {ZXCVBN_PL} source reads a marisa trie: {EXTRA}") from None
    trie = marisa_trie.RecordTrie("<I").frombytes(data)
    return {word: record[0] for word, record in trie.items()}


def fold(word: str) -> str:
    """Without diacritics, as zxcvbn-pl's variants are (ł -> l too)."""
    decomposed = unicodedata.normalize("NFD", word.replace("ł", "l"))
    return "".join(c for c in decomposed if unicodedata.category(c) != "Mn")


def _change(lemma: str, form: str) -> tuple[str, str] | None:
    """(lemma's changed tail, form's tail) after their common prefix, or None if too much changed."""
    common = 0
    for a, b in zip(lemma, form):
        if a != b:
            break
        common += 1
    if common < 3 or len(lemma) - common > MAX_STEM_CHANGE:
        return None
    return lemma[common:], form[common:]


def inflections(by_rank: dict[int, list[str]], min_ending: int = MIN_ENDING) -> dict[str, str]:
    """inflected form -> its lemma: a word at rank 2r that a word at rank r turns into by an ending change
    seen at least `min_ending` times in the file."""
    pairs: dict[tuple[str, str], tuple[str, str]] = {}  # (form, lemma) -> change
    counts: Counter = Counter()
    for rank, words in by_rank.items():
        lemmas = by_rank.get(rank // 2, []) if rank % 2 == 0 else []
        for form in words:
            for lemma in lemmas:
                change = _change(fold(lemma), fold(form))
                if change is not None:
                    pairs[(form, lemma)] = change
                    counts[change] += 1
                    break
    return {form: lemma for (form, lemma), change in pairs.items() if counts[change] >= min_ending}


def capitalise(word: str) -> str:
    return "-".join(part[:1].upper() + part[1:] for part in word.split("-"))


def polish_surnames(ranks: dict[str, int], min_ending: int = MIN_ENDING) -> tuple[list[str], dict[str, int]]:
    """(nominative surnames, capitalised, by rank; dropped counts) from zxcvbn-pl's word -> rank."""
    by_rank: dict[int, list[str]] = defaultdict(list)
    for word, rank in ranks.items():
        by_rank[rank].append(word)
    inflected = inflections(by_rank, min_ending)
    # Folded: wiśniewska's forms may have been paired with wisniewska, or all with kowalski rather than
    # kowalska, so a word counts as declined when a same-rank twin of its stem is.
    declined = {fold(lemma) for lemma in inflected.values()}
    kept, dropped = [], Counter()
    for rank in sorted(by_rank):
        words = sorted(w for w in by_rank[rank] if w not in inflected)
        dropped["inflected forms (SGJP)"] += len(by_rank[rank]) - len(words)
        for word in words:
            if word.isascii() and any(other != word and fold(other) == word for other in words):
                dropped["diacritics-free variants"] += 1
            elif not set(word) <= POLISH_LETTERS:
                dropped["letters Polish does not use (Müller, Nguyễn)"] += 1
            elif not any(fold(o) in declined and _change(fold(o), fold(word)) for o in words):
                dropped["no Polish declension in SGJP (Ivanov, Shevchenko, Kim, Wang …)"] += 1
            else:
                kept.append(capitalise(word))
    return kept, dict(dropped)


def read_zxcvbn_pl(path: Path | None = None) -> Source:
    """The `zxcvbn-pl` source: from the installed package (path None), its wheel or the .marisa file."""
    data, where, digest = packaged.read_file(ZXCVBN_PL_FILE, path)
    names, dropped = polish_surnames(load_ranks(data), MIN_ENDING)
    provenance = (
        f"zxcvbn-pl {ZXCVBN_PL_FILE.version}: {ZXCVBN_PL_FILE.member} (read from {where}); PESEL surnames "
        "borne by 200 people or more, "
        "male and female forms; nominatives only (docs/data.md)"
    )
    location = packaged.location(ZXCVBN_PL_FILE, path)
    rows = len(names)
    return Source(ZXCVBN_PL, ZXCVBN_PL, location, digest, ZXCVBN_PL_FILE.licence, provenance, names, ["Polish"] * rows,
                  [False] * rows, {"pl_last_names": "Polish"}, {}, dropped)  # fmt: skip
