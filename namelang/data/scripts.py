"""A name's Unicode script, and the path it takes to a label.

Latin names go to the model as they are. Cyrillic and Greek names are transliterated to the Latin
spelling the archive uses (Смирнов -> Smirnov, Παπαδόπουλος -> Papadopoulos) and go to the model too,
kept to the script's language: Greek for Greek, Russian or out of scope for Cyrillic.
Han, Kana, Hangul and Arabic-script names cannot be spelled the archive's way without a dictionary,
and each of those scripts is written by one or two of the 18 languages, so a rule labels them:
Hangul -> Korean, Kana -> Japanese, Arabic script -> Arabic (unless it has letters only Persian and
Urdu use: out of scope), Han -> Chinese for one character (Chinese surnames are mostly one
character), Japanese for two or more (Japanese ones mostly two or three). The rules' accuracy on the
Mimesis lists is measured in benchmarks/registers_benchmark.py and quoted in docs/scripts.md.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import lru_cache

LATIN, CYRILLIC, GREEK = "Latin", "Cyrillic", "Greek"
HAN, KANA, HANGUL, ARABIC = "Han", "Kana", "Hangul", "Arabic"
OTHER = "Other"
TRANSLITERATED = (CYRILLIC, GREEK)
RULED = (HAN, KANA, HANGUL, ARABIC)

# The first word of a character's Unicode name says its script.
_SCRIPT_OF_NAME_PREFIX = {
    "LATIN": LATIN,
    "CYRILLIC": CYRILLIC,
    "GREEK": GREEK,
    "CJK": HAN,
    "HIRAGANA": KANA,
    "KATAKANA": KANA,
    "HANGUL": HANGUL,
    "ARABIC": ARABIC,
}
# Characters of the Arabic script that Arabic itself does not use (Persian, Urdu): پ چ ژ گ ک ی ے ٹ ڈ ڑ ں ھ
NON_ARABIC_LETTERS = frozenset("پچژگکیےٹڈڑںھ")


@lru_cache(maxsize=4096)
def char_script(char: str) -> str | None:
    """The script of one letter, or None for marks, spaces, punctuation and digits."""
    if not unicodedata.category(char).startswith("L"):
        return None
    first = unicodedata.name(char, "").split(" ", 1)[0]
    if first == "IDEOGRAPHIC" or char == "々":
        return HAN
    return _SCRIPT_OF_NAME_PREFIX.get(first, OTHER)


def script_of(name: str) -> str:
    """The name's script: Kana wins over Han (Japanese mixes them), else the script of most letters."""
    counts: dict[str, int] = {}
    for char in name:
        script = char_script(char)
        if script is not None:
            counts[script] = counts.get(script, 0) + 1
    if not counts:
        return OTHER
    if KANA in counts:
        return KANA
    return max(counts, key=lambda s: (counts[s], s == LATIN))


# Russian, BGN/PCGN-like, with the archive's habits: -ий/-ый -> y (Dostoevsky), ь before a vowel -> i
# (Vasiliev), е -> e everywhere (the archive's Russian names start with E, hardly ever with Ye).
# Ukrainian, Belarusian and Kazakh letters are included so that those names transliterate too.
_CYRILLIC = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "e", "ж": "zh", "з": "z",
    "и": "i", "й": "i", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r",
    "с": "s", "т": "t", "у": "u", "ф": "f", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh",
    "щ": "shch", "ъ": "", "ы": "y", "ь": "", "э": "e", "ю": "yu", "я": "ya",
    "і": "i", "ї": "yi", "є": "ye", "ґ": "g", "ў": "u",
    "ә": "a", "ғ": "g", "қ": "k", "ң": "n", "ө": "o", "ұ": "u", "ү": "u", "һ": "h",
}  # fmt: skip
_CYRILLIC_VOWELS = set("аеёиоуыэюяієї")

# Greek, as the archive spells it: χ -> h (Haritopoulos) but χρ -> chr (Christodoulou), φ -> f,
# β -> v, ου -> ou, η/ι/υ -> i/i/y, final ς -> s; digraphs first.
_GREEK_PAIRS = {
    "ου": "ou", "αι": "ai", "ει": "ei", "οι": "oi", "υι": "yi", "αυ": "av", "ευ": "ev", "ηυ": "iv",
    "γγ": "ng", "γκ": "gk", "γχ": "nch", "γξ": "nx", "μπ": "mp", "ντ": "nt", "τσ": "ts", "τζ": "tz",
    "χρ": "chr",
}  # fmt: skip
_GREEK = {
    "α": "a", "β": "v", "γ": "g", "δ": "d", "ε": "e", "ζ": "z", "η": "i", "θ": "th", "ι": "i",
    "κ": "k", "λ": "l", "μ": "m", "ν": "n", "ξ": "x", "ο": "o", "π": "p", "ρ": "r", "σ": "s",
    "ς": "s", "τ": "t", "υ": "y", "φ": "f", "χ": "h", "ψ": "ps", "ω": "o",
}  # fmt: skip
# At a word's start μπ and ντ are the sounds b and d (Μπακογιάννης -> Bakogiannis).
_GREEK_INITIAL = {"μπ": "b", "ντ": "d"}


def _cased(latin: str, upper: bool) -> str:
    return latin[:1].upper() + latin[1:] if upper else latin


def _strip_accents(text: str) -> str:
    """Drop accents and the diaeresis (they do not change the Latin spelling), keep everything else."""
    return unicodedata.normalize(
        "NFC", "".join(c for c in unicodedata.normalize("NFD", text) if unicodedata.category(c) != "Mn")
    )


def _cyrillic_word(word: str) -> str:
    out = []
    lower = word.lower()
    for i, (char, low) in enumerate(zip(word, lower)):
        nxt = lower[i + 1] if i + 1 < len(lower) else ""
        if low in "иы" and nxt == "й" and i + 2 == len(lower):
            out.append(_cased("y", char != low))  # -ий, -ый at the end: one y
            continue
        if low == "й" and i > 0 and lower[i - 1] in "иы" and i + 1 == len(lower):
            continue
        if low == "ь" and nxt in _CYRILLIC_VOWELS:
            out.append("i")
            continue
        latin = _CYRILLIC.get(low)
        out.append(char if latin is None else _cased(latin, char != low))
    return "".join(out)


def _greek_word(word: str) -> str:
    plain = _strip_accents(word)
    lower = plain.lower()
    out, i = [], 0
    while i < len(plain):
        pair = lower[i : i + 2]
        latin = (_GREEK_INITIAL.get(pair) if i == 0 else None) or _GREEK_PAIRS.get(pair)
        step = 2
        if latin is None:
            latin, step = _GREEK.get(lower[i]), 1
        if latin is None:
            out.append(plain[i])
        else:
            out.append(_cased(latin, plain[i] != lower[i]))
        i += step
    return "".join(out)


def _by_word(name: str, convert) -> str:
    def part(text: str) -> str:
        # An all-capitals name keeps its digraphs in capitals too: ЩУКИН -> SHCHUKIN.
        return convert(text.lower()).upper() if len(text) > 1 and text.isupper() else convert(text)

    return " ".join("-".join(part(p) for p in word.split("-")) for word in name.split(" "))


def transliterate(name: str) -> str:
    """Cyrillic and Greek letters in Latin, the archive's way; other characters are left as they are."""
    if name.isascii():
        return name
    if any(char_script(c) == CYRILLIC for c in name):
        name = _by_word(name, _cyrillic_word)
    if any(char_script(c) == GREEK for c in name):
        name = _by_word(name, _greek_word)
    return name


@dataclass(frozen=True)
class Ruling:
    """What a script rule says of a name: a label, or out of scope (label None)."""

    label: str | None
    rule: str


def rule_for(name: str, script: str) -> Ruling | None:
    """The rule's answer for a name in a ruled script (Han, Kana, Hangul, Arabic); None for the others."""
    if script == HANGUL:
        return Ruling("Korean", "Hangul -> Korean")
    if script == KANA:
        return Ruling("Japanese", "Kana -> Japanese")
    if script == ARABIC:
        if any(c in NON_ARABIC_LETTERS for c in name):
            return Ruling(None, "Persian/Urdu letters -> out of scope")
        return Ruling("Arabic", "Arabic script -> Arabic")
    if script == HAN:
        han = sum(1 for c in name if char_script(c) == HAN)
        if han == 1:
            return Ruling("Chinese", "one Han character -> Chinese")
        return Ruling("Japanese", "two or more Han characters -> Japanese")
    return None


# Of the 18 languages, the one each transliterated script writes, and whether a language outside them
# is written in it too. The model scores such a name from its Latin spelling, which loses the script;
# the script itself says the language, so the model's choice is kept to that language, or out of scope
# where other languages share the script (Bulgarian, Serbian, Macedonian … in Cyrillic; none of them
# in Greek): a Greek-script Γιαννάρη is Greek, whatever Giannari looks like.
SCRIPT_LANGUAGE = {CYRILLIC: ("Russian", True), GREEK: ("Greek", False)}


def script_masks(names: list[str], labels: list[str], out_of_scope: str | None = None):
    """(rows [M], masks [M, labels]) for the names in a transliterated script whose language the model
    has: 1 for that language (and `out_of_scope`, when the script is shared and the model has it)."""
    import numpy as np

    index = {label: i for i, label in enumerate(labels)}
    rows, masks = [], []
    for row, name in enumerate(names):
        language, shared = SCRIPT_LANGUAGE.get(script_of(name), (None, False))
        if language in index:
            mask = np.zeros(len(labels), dtype=np.float32)
            mask[index[language]] = 1.0
            if shared and out_of_scope in index:
                mask[index[out_of_scope]] = 1.0
            rows.append(row)
            masks.append(mask)
    return np.array(rows, dtype=np.int64), np.array(masks, dtype=np.float32).reshape(len(rows), len(labels))


def path_of(name: str, labels: list[str] | None = None, out_of_scope: str | None = None) -> str:
    """How a name is scored: 'model', 'transliterated' (then the model) or 'rule: …'.

    With the model's `labels`, a rule whose label the model lacks is 'model', as `rule_probabilities`
    leaves such a name to the model.
    """
    script = script_of(name)
    if script in TRANSLITERATED:
        return "transliterated"
    ruling = rule_for(name, script)
    if ruling is None or (labels is not None and (ruling.label or out_of_scope) not in labels):
        return "model"
    return f"rule: {ruling.rule}"


def rule_probabilities(names: list[str], labels: list[str], out_of_scope: str | None = None):
    """(rows [M], probabilities [M, labels]) for the names a script rule labels with one of `labels`.

    A rule's label gets probability 1; a name ruled out of scope goes to `out_of_scope` when the model
    has that label, else to the model. A label the model lacks leaves the name to the model too.
    """
    import numpy as np

    index = {label: i for i, label in enumerate(labels)}
    rows, columns = [], []
    for row, name in enumerate(names):
        script = script_of(name)
        ruling = rule_for(name, script) if script in RULED else None
        target = None if ruling is None else (ruling.label or out_of_scope)
        if target in index:
            rows.append(row)
            columns.append(index[target])
    probs = np.zeros((len(rows), len(labels)), dtype=np.float32)
    probs[np.arange(len(rows)), columns] = 1.0
    return np.array(rows, dtype=np.int64), probs
