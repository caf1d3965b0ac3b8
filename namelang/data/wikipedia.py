"""The `wikipedia` source: surnames of English-Wikipedia people, labelled by their nationality.

name2nat 0.5.1 (Apache-2.0) ships `name2nat/name2nats.pkl`, a dict of 1,074,617 people's full names
(article titles) -> their nationalities (176 demonyms), built from the 2020-06-01 English Wikipedia dump.
It is read from an installed name2nat (found without importing it: importing pulls in flair) or from the
wheel file itself, checked against a known digest, and unpickled with an unpickler that refuses every
global: a dict of str -> list of str needs none, so a tampered file cannot run code.

A nationality is not a language of origin (a French Nguyen, an Argentine Simeone), so every row is weak:
it gives way wherever a strong source gives the same surname another label. The nationality table, the
surname rules and their counts are in docs/data.md.
"""

from __future__ import annotations

import hashlib
import html
import pickle
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from namelang.data import packaged
from namelang.data.packaged import PackagedFile
from namelang.data.source import OUT_OF_SCOPE, WIKIPEDIA, Source
from namelang.errors import NamelangError, literal

# The file's sha256 in name2nat 0.5.1; the wheel's own is
# cf6c45de61accfeb1d80c9ae86efd42fcf40cac481da5ab04d8a66dd7195fe94 (PyPI), but the pickle is what is read.
NAME2NAT = PackagedFile(
    WIKIPEDIA, "name2nat", "0.5.1", "name2nat/name2nats.pkl",
    "82f6415d0a95f19320da7e01b91284262a0c8d5ef808340db8f49ac17263dbfb", "name list",
    "Apache-2.0 (name2nat 0.5.1, Kyubyong Park; names from English Wikipedia)",
)  # fmt: skip

_SPANISH_AMERICA = (
    "Mexican Colombian Chilean Cuban Venezuelan Peruvian Dominican Paraguayan Ecuadorian Bolivian "
    "Guatemalan Salvadoran Honduran Panamanian Nicaraguan"
)
_ARAB = (
    "Egyptian Saudi Iraqi Lebanese Syrian Jordanian Palestinian Kuwaiti Qatari Emirati Bahraini Omani "
    "Yemeni Libyan Sudanese Algerian Moroccan Tunisian Mauritanian"
)
# Demonym -> label. The reason for each choice is in docs/data.md (the nationality table).
NATIONALITIES: dict[str, str] = {
    "English": "English", "Welsh": "English",  # Jones, Davies, Evans are in the archive's English
    "German": "German", "Austrian": "German",
    "French": "French", "Breton": "French", "Haitian": "French",  # Duvalier, Aristide, Préval
    "Italian": "Italian", "Sammarinese": "Italian",
    "Catalan": "Spanish",  # no "Spanish" demonym in the data: Spain is Catalan and Basque
    "Basque": "Spanish", "Andorran": "Spanish",
    **dict.fromkeys(_SPANISH_AMERICA.split(), "Spanish"),
    "Portuguese": "Portuguese", "Brazilian": "Portuguese",
    **dict.fromkeys(_ARAB.split(), "Arabic"),
    "Chinese": "Chinese", "Taiwanese": "Chinese",
    "Russian": "Russian", "Japanese": "Japanese", "Dutch": "Dutch", "Irish": "Irish", "Korean": "Korean",
    "Czech": "Czech", "Greek": "Greek", "Cypriot": "Greek", "Vietnamese": "Vietnamese",
}  # fmt: skip
# Nationalities whose names come from a language outside the 18.
_OUT_OF_SCOPE = (
    "Indian Norwegian Hungarian Romanian Iranian Nigerian Bulgarian Pakistani Slovak Indonesian "
    "Thai Malaysian Albanian Ghanaian Estonian Lithuanian Latvian Bangladeshi Kenyan Armenian Tamil "
    "Azerbaijani Macedonian Ugandan Cameroonian Moldovan Montenegrin Burmese Senegalese Afghan Nepalese "
    "Ethiopian Tanzanian Samoan Namibian Guinean Zambian Mongolian Angolan Tongan Malian Cambodian "
    "Liberian Burkinabé Faroese Rwandan Tibetan Georgian Botswana Malawian Malagasy Gambian Togolese "
    "Mozambican Beninese Gabonese Maldivian Manx Bhutanese Nigerien Burundian Chadian "
    "Eritrean Vanuatuan Somali Bruneian Swazi Slovene Bosniak Uzbek Tajik Comorian Djiboutian Sotho Serb "
    "I-Kiribati Congolese Palauan Nauruan Marshallese Lao Kyrgyz Croat Tuvaluan"
)
NATIONALITIES.update(dict.fromkeys(_OUT_OF_SCOPE.split(), OUT_OF_SCOPE))
_MIXED = "a nation of immigrants: its people's names come from every origin"
_ENGLISH_SPEAKING = "English-speaking Caribbean: English, African and Indian names alike"
# Demonyms whose rows are not used, and why (recorded in the manifest).
LEFT_OUT: dict[str, str] = {
    "American": _MIXED, "Canadian": _MIXED, "Australian": _MIXED, "New Zealander": _MIXED,
    "South African": _MIXED,
    "British": "UK-wide: English, Scottish, Welsh, Irish and Commonwealth names; English is the specific one",
    "Argentine": "mostly Italian-descended names (Simeone, Trinchero, Priani): Spanish would mislabel them",
    "Uruguayan": "mostly Italian-descended names, as Argentine",
    "Belgian": "Dutch and French names alike (De Grauwe, Frère)",
    "Israeli": "Hebrew, Yiddish/German, Russian and Arabic names: as unknown it would teach that "
               "German-spelt names are out of scope",
    "Singaporean": "Chinese, Malay and Indian names alike",
    "Ukrainian": "the archive files Ukrainian names under Russian: neither label would be consistent",
    "Belarusian": "the archive files Belarusian names under Russian: neither label would be consistent",
    "Kazakh": "the archive files Kazakh names under Russian: neither label would be consistent",
    "Gibraltarian": "Spanish, English, Maltese, Genoese and Jewish names alike",
    "Jamaican": _ENGLISH_SPEAKING, "Bermudian": _ENGLISH_SPEAKING, "Bahamian": _ENGLISH_SPEAKING,
    "Barbadian": _ENGLISH_SPEAKING, "Guyanese": _ENGLISH_SPEAKING, "Belizean": _ENGLISH_SPEAKING,
    "Grenadian": _ENGLISH_SPEAKING, "Vincentian": _ENGLISH_SPEAKING, "Tobagonian": _ENGLISH_SPEAKING,
    "Aruban": "Dutch Caribbean: Dutch, Spanish and Papiamento names alike",
    "Surinamese": "Dutch, Javanese, Indian and African names alike",
    "Mauritian": "Indian, French, Chinese and Creole names alike",
    "Filipino": "Spanish surnames (the 1849 Claveria catalogue) beside Tagalog and Chinese ones: as unknown "
                "it would teach that Spanish names are out of scope",
    "Equatoguinean": "Spanish names beside Fang and Bubi ones, as Filipino",
    "Maltese": "Italian names (Grima, Cremona, Portelli) beside Maltese ones, as Filipino",
    "Pole": "7 rows, none Polish (polar explorers)",
    "Finn": "85 rows, players of Finn Harps (an Irish football club)",
    "Turk": "99 rows, racehorses",
    "Dane": "41 rows, people of Dane County, Wisconsin",
    "Syriac": "98 rows, mostly clergy with titles and epithets",
}  # fmt: skip
FAMILY_FIRST = ("Chinese", "Korean", "Vietnamese")  # the family name is written first
ORDER_CHECKED = (*FAMILY_FIRST, "Japanese")

# Words that belong to the surname when they stand before its last word (van der Berg, de la Cruz,
# Al Barrak, Ben Younès, Mac Allister, Ó Súilleabháin); the sources keep them as written (Mimesis: "aan de
# Beke", "Da Costa", "De Angelis").
PARTICLES = frozenset(
    "van von der den de del della dello delle degli di da dal dalla das do dos du des la le lo las los ter "
    "ten te op zu al el ben bin ibn abu abd abdel abdul bou mac mc nic ní ó ua uí".split()
)
CONJUNCTIONS = frozenset("y i e".split())  # Morales y Pedroso: two surnames, the last one is taken
TITLES = frozenset(
    "prince princess king queen emperor empress archduke archduchess duke duchess count countess baron "
    "baroness lord lady sir dame saint st. st pope sultan sheikh emir tsar tsarina grand crown infante "
    "infanta marquis marquess earl viscount consort madame".split()
)
SUFFIXES = frozenset("jr jr. sr sr. ii iii iv filho neto júnior junior sobrinho".split())
_PARENS = re.compile(r"\s*\([^)]*\)")
_INITIAL = re.compile(r"^(?:[^\W\d_]\.)+$|^[^\W\d_]$")  # W. H.G. or a lone letter, never a digit
_WORD = re.compile(r"^[^\W\d_]+(?:['’-][^\W\d_]+)*['’]?$")  # letters, inner apostrophes and hyphens


@dataclass
class Surnames:
    """Distinct (surname, label) pairs with what was dropped and how family names were found."""

    names: list[str] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    dropped: Counter = field(default_factory=Counter)
    rules: Counter = field(default_factory=Counter)  # family-name rule -> surnames it produced
    people: Counter = field(default_factory=Counter)  # label -> people kept


class _NoGlobals(pickle.Unpickler):
    """Builds only plain containers and strings: any class or function reference is refused."""

    def find_class(self, module, name):
        raise pickle.UnpicklingError(f"it refers to {module}.{name}")


def safe_unpickle(data: bytes, where: str) -> object:
    """Unpickle data that must hold no global (class, function); a file that does is refused."""
    import io

    try:
        return _NoGlobals(io.BytesIO(data)).load()
    except Exception as exc:  # noqa: BLE001 - any failure of a hostile or broken pickle is the file's fault
        raise NamelangError(f"{literal(where)} is not a plain name list, refused: {literal(exc)}") from None


def load_people(path: Path | None = None) -> tuple[dict, str, str]:
    """(full name -> nationalities, where, digest), checked against the known digest before unpickling."""
    data, where, digest = packaged.read_file(NAME2NAT, path)
    people = safe_unpickle(data, where)
    if not isinstance(people, dict):
        raise NamelangError(f"{literal(where)} holds a {type(people).__name__}, not a dict of names")
    return people, where, digest


def label_of(nationalities: list[str]) -> tuple[str | None, str]:
    """(label, '') for a person, or (None, why not): left-out demonyms are ignored, the rest must agree."""
    labels = {NATIONALITIES[n] for n in nationalities if n in NATIONALITIES}
    if len(labels) == 1:
        return labels.pop(), ""
    if labels:
        return None, "several nationalities with different labels"
    return None, "no mapped nationality"


def name_words(full: str) -> tuple[list[str] | None, str]:
    """The words of a person's name without disambiguation, titles, suffixes and initials; or (None, why)."""
    text = _PARENS.sub("", html.unescape(full)).split(",")[0].replace("’", "'")
    words = text.split()
    while len(words) > 2 and words[-1].lower() in SUFFIXES:
        words.pop()
    if not words:
        return None, "blank"
    if words[0].lower() in TITLES:
        return None, "a title (Prince, Emperor, Saint …)"
    words = [w for w in words if w.lower() in PARTICLES or not _INITIAL.match(w)]  # Ó Dálaigh is no initial
    if any(not _WORD.match(w) for w in words):
        return None, "not a name (digits, symbols, an initial last)"
    if any(w.islower() and w not in PARTICLES | CONJUNCTIONS for w in words):
        return None, "not a name (lower-case words: 'of', 'by', 'the' …)"
    if any(len(w) > 1 and w.isupper() for w in words):
        return None, "an acronym or a stage name"
    if len(words) < 2:
        return None, "one word (a mononym or a stage name)"
    return words, ""


def western_surname(words: list[str]) -> str:
    """The last word, with the particles before it (never the first word: Ben Whitehouse, De Angelis)."""
    start = len(words) - 1
    while start > 1 and words[start - 1].lower() in PARTICLES:
        start -= 1
    return " ".join(words[start:])


def _word_positions(people: dict) -> tuple[dict[str, Counter], dict[str, Counter]]:
    """(label -> first words, label -> last words) of kept names; '' collects the unchecked labels."""
    first: dict[str, Counter] = defaultdict(Counter)
    last: dict[str, Counter] = defaultdict(Counter)
    for full, nationalities in people.items():
        label, _ = label_of(nationalities)
        words, _ = name_words(full)
        if label is not None and words:
            key = label if label in ORDER_CHECKED else ""
            first[key][words[0]] += 1
            last[key][words[-1]] += 1
    return first, last


def typical_words(people: dict, min_count: int = 3, ratio: float = 10.0) -> dict[str, set[str]]:
    """Chinese, Korean, Vietnamese: their known family names, words far more often first in their names
    than first in anyone else's (Wang, Kim, Nguyen; not David). Japanese: its known given names, words far
    more often first than last in Japanese names (Hiroshi, Kazumasa; not Mori, which is both)."""
    first, last = _word_positions(people)
    others = first.pop("", Counter())
    total_other = max(1, sum(others.values()))
    typical = {}
    for label, counts in first.items():
        total = sum(counts.values())
        if label in FAMILY_FIRST:
            typical[label] = {
                w
                for w, n in counts.items()
                if n >= min_count and n / total >= ratio * others[w] / total_other
            }
        else:
            typical[label] = {w for w, n in counts.items() if n >= min_count and n >= ratio * last[label][w]}
    return typical


def family_surname(words: list[str], known: set[str]) -> tuple[str | None, str]:
    """(surname, rule) of a family-name-first language: the first word if it is a known family name
    (Mao Zedong), else a later known one (Jackie Chan, Byung-hyun Kim), else none (order unknown)."""
    if words[0] in known:
        return words[0], "first word, a known family name"
    later = [w for w in words[1:] if w in known]
    if later:
        return later[-1], "a later word, a known family name"
    return None, "no known family name: dropped"


def japanese_surname(words: list[str], given: set[str]) -> tuple[str, str]:
    """(surname, rule): the last word, unless it is a known given name and the first is not (Ogawa
    Kazumasa: family name first, as for people before 1868 and sumo wrestlers)."""
    if words[-1] in given and words[0] not in given:
        return words[0], "first word (the last is a given name)"
    return words[-1], "last word"


def surname_of(words: list[str], label: str, typical: dict[str, set[str]]) -> tuple[str | None, str]:
    if label in FAMILY_FIRST:
        return family_surname(words, typical.get(label, set()))
    if label == "Japanese":
        return japanese_surname(words, typical.get(label, set()))
    return western_surname(words), ""


def surnames(people: dict) -> Surnames:
    """Distinct (surname, label) pairs of every person whose nationalities map to one label."""
    typical = typical_words(people)
    result = Surnames()
    seen: set[tuple[str, str]] = set()
    for full in sorted(people):
        label, why = label_of(people[full])
        if label is None:
            result.dropped[why] += 1
            continue
        words, why = name_words(full)
        if words is None:
            result.dropped[why] += 1
            continue
        surname, rule = surname_of(words, label, typical)
        if surname is None:
            result.dropped[f"{label}: {rule}"] += 1
            continue
        result.people[label] += 1
        if (surname, label) in seen:
            result.dropped["a surname already kept for its label"] += 1
            continue
        seen.add((surname, label))
        if rule:
            result.rules[f"{label}: {rule}"] += 1
        result.names.append(surname)
        result.labels.append(label)
    return cap_out_of_scope(result)


def cap_out_of_scope(result: Surnames) -> Surnames:
    """Keep no more out-of-scope surnames than the largest language has: 75,000 of them (Indian,
    Norwegian, Hungarian …) would outweigh every language and tilt the model towards `unknown`. The
    kept ones are chosen by a hash of the name, the same on every run and for every seed."""
    sizes = Counter(result.labels)
    cap = max((n for label, n in sizes.items() if label != OUT_OF_SCOPE), default=0)
    if sizes[OUT_OF_SCOPE] <= cap:
        return result
    out = sorted((n for n, lb in zip(result.names, result.labels) if lb == OUT_OF_SCOPE),
                 key=lambda n: hashlib.sha256(n.encode()).digest())  # fmt: skip
    keep = set(out[:cap])
    pairs = [(n, lb) for n, lb in zip(result.names, result.labels) if lb != OUT_OF_SCOPE or n in keep]
    result.dropped[f"{OUT_OF_SCOPE}: over the cap (the largest language's {cap:,} surnames)"] = len(out) - cap
    result.names, result.labels = [n for n, _ in pairs], [lb for _, lb in pairs]
    return result


def demonym_counts(people: dict) -> Counter:
    return Counter(n for nationalities in people.values() for n in nationalities)


def read_wikipedia(path: Path | None = None):
    """The `wikipedia` source: from the installed name2nat (path None), its wheel or name2nats.pkl."""
    people, where, digest = load_people(path)
    found = surnames(people)
    demonyms = demonym_counts(people)
    label_map = {d: NATIONALITIES[d] for d in sorted(demonyms) if d in NATIONALITIES}
    left_out = {d: LEFT_OUT.get(d, "not mapped to one of the labels") for d in sorted(demonyms)
                if d not in NATIONALITIES}  # fmt: skip
    rules = ", ".join(f"{rule} {n:,}" for rule, n in sorted(found.rules.items()))
    provenance = (
        f"name2nat {NAME2NAT.version}: {NAME2NAT.member} (read from {where}), English Wikipedia 2020-06-01 "
        f"people -> nationalities; one row per distinct surname and label, all weak; surname rules: {rules}"
    )
    location = packaged.location(NAME2NAT, path)
    return Source(WIKIPEDIA, WIKIPEDIA, location, digest, NAME2NAT.licence, provenance, found.names, found.labels,
                  [True] * len(found.names), label_map, left_out, dict(found.dropped))  # fmt: skip
