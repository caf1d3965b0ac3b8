"""Unicode scripts: detection, Cyrillic/Greek transliteration, the script rules, and the Classifier's paths."""

from __future__ import annotations

import numpy as np
import pytest

from namelang.data.normalize import normalize_name
from namelang.data.scripts import path_of, rule_for, rule_probabilities, script_of, transliterate

PAIRS = [
    ("Смирнов", "Smirnov"),
    ("Смирнова", "Smirnova"),
    ("Кузнецова", "Kuznetsova"),
    ("Достоевский", "Dostoevsky"),
    ("Васильев", "Vasiliev"),
    ("Хрущёв", "Khrushchev"),
    ("Жуков", "Zhukov"),
    ("Цветаева", "Tsvetaeva"),
    ("Юсупов", "Yusupov"),
    ("Яковлев", "Yakovlev"),
    ("Римский-Корсаков", "Rimsky-Korsakov"),
    ("ЩУКИН", "SHCHUKIN"),
    ("Παπαδόπουλος", "Papadopoulos"),
    ("Παπαδοπούλου", "Papadopoulou"),
    ("Αγγελίδης", "Angelidis"),
    ("Χριστοδούλου", "Christodoulou"),
    ("Χαριτόπουλος", "Haritopoulos"),
    ("Γεωργίου", "Georgiou"),
    ("Οικονόμου", "Oikonomou"),
    ("Μπακογιάννης", "Bakogiannis"),
    ("Ευαγγέλου", "Evangelou"),
    ("Müller", "Müller"),
    ("山田", "山田"),
]


@pytest.mark.parametrize("native, latin", PAIRS)
def test_transliteration_pairs(native, latin):
    assert transliterate(native) == latin
    assert normalize_name(f"  {native} ") == latin
    assert normalize_name(native, transliterate=False) == native


# Names of the archive's Greek.txt (Latin) in Greek script: written back exactly as the archive spells
# them (χ -> h, χρ -> chr, φ -> f, β and αυ/ευ before a voiced sound -> v, υ -> y, initial μπ -> b, τζ -> tz).
ARCHIVE_GREEK = ["Βλάχος Vlahos", "Καραχάλιος Karahalios", "Σταυρόπουλος Stavropoulos",
                 "Παρασκευόπουλος Paraskevopoulos", "Θεοφιλόπουλος Theofilopoulos",
                 "Χρυσανθόπουλος Chrysanthopoulos", "Φωτόπουλος Fotopoulos", "Καλόξυλος Kaloxylos",
                 "Αυγερινός Avgerinos", "Πολυμενάκου Polymenakou", "Μπρισιμιτζάκης Brisimitzakis",
                 "Σπυρίδης Spyridis", "Αγγελόπουλος Angelopoulos"]  # fmt: skip


@pytest.mark.parametrize("pair", ARCHIVE_GREEK)
def test_greek_as_the_archive_spells_it(pair):
    native, latin = pair.split()
    assert transliterate(native) == latin


@pytest.mark.parametrize(
    "name, script",
    [
        ("Smith", "Latin"),
        ("Dvořák", "Latin"),
        ("Смирнова", "Cyrillic"),
        ("Абраменко", "Cyrillic"),
        ("Παπαδόπουλος", "Greek"),
        ("山田", "Han"),
        ("佐々木", "Han"),
        ("一ノ瀬", "Kana"),  # any Kana: Japanese writing
        ("やまだ", "Kana"),
        ("김", "Hangul"),
        ("عبد الله", "Arabic"),
        ("שפירא", "Other"),
        ("123", "Other"),
    ],
)
def test_script_detection(name, script):
    assert script_of(name) == script


def test_rules_and_paths():
    assert rule_for("김", "Hangul").label == "Korean"
    assert rule_for("スズキ", "Kana").label == "Japanese"
    assert rule_for("王", "Han").label == "Chinese" and rule_for("山田", "Han").label == "Japanese"
    assert rule_for("الأحمدي", "Arabic").label == "Arabic"
    assert rule_for("آشتیانی", "Arabic").label is None  # Persian letters: out of scope
    assert rule_for("Smith", "Latin") is None
    assert path_of("Smith") == "model" and path_of("Смирнов") == "transliterated"
    assert path_of("김").startswith("rule: Hangul")
    # with the model's labels: a rule whose label (or out-of-scope class) it lacks leaves the name to it
    assert path_of("김", ["Korean"]) == "rule: Hangul -> Korean" and path_of("김", ["Chinese"]) == "model"
    assert path_of("آشتیانی", ["Arabic", "unknown"], "unknown").startswith("rule: Persian")
    assert path_of("آشتیانی", ["Arabic"], None) == "model"


def test_rule_probabilities_only_for_labels_the_model_has():
    labels = ["Chinese", "English", "Korean", "unknown"]
    rows, probs = rule_probabilities(["Smith", "김", "王", "山田", "آشتیانی"], labels, "unknown")
    assert rows.tolist() == [1, 2, 4]  # Japanese is not a label here: 山田 is left to the model
    assert np.array_equal(probs.argmax(axis=1), [2, 0, 3]) and np.allclose(probs.sum(axis=1), 1)
    rows, _ = rule_probabilities(["آشتیانی"], labels[:3], None)
    assert rows.tolist() == []  # no out-of-scope label: the model decides


def test_classifier_paths_and_rules(tiny_trained):
    from namelang.inference import Classifier

    clf = Classifier.load(home=tiny_trained)
    names = ["Smirnova", "Смирнова", "김", "", None]
    paths = clf.script_paths(names)
    assert paths[:2] == ["model", "transliterated"] and paths[3:] == ["", ""]
    probs = clf.predict_proba(names)
    # The Cyrillic spelling scores as its Latin one, kept to Russian (and out of scope, if a label).
    allowed = [clf.labels.index(lb) for lb in ("Russian", "unknown") if lb in clf.labels]
    expected = np.zeros_like(probs[0])
    expected[allowed] = probs[0][allowed] / probs[0][allowed].sum()
    assert "Russian" in clf.labels and np.allclose(probs[1], expected)
    if "Korean" in clf.labels:
        assert paths[2] == "rule: Hangul -> Korean" and probs[2].argmax() == clf.labels.index("Korean")
    else:
        assert paths[2] == "model"  # the rule has no label to give: the model decides, and says so


def test_script_masks_keep_a_transliterated_script_to_its_language():
    from namelang.data.scripts import script_masks

    labels = ["Greek", "Italian", "Russian", "unknown"]
    rows, masks = script_masks(["Giannari", "Γιαννάρη", "Смирнова", "김"], labels, "unknown")
    assert rows.tolist() == [1, 2]
    # Greek script writes no language outside the 18; Cyrillic does (Bulgarian, Serbian …).
    assert masks.tolist() == [[1, 0, 0, 0], [0, 0, 1, 1]]
    # Without an out-of-scope label only the language stays; a model without it is left alone.
    assert script_masks(["Смирнова"], labels[:3])[1].tolist() == [[0, 0, 1]]
    assert script_masks(["Γιαννάρη"], ["Italian", "Russian"])[0].tolist() == []


def test_a_greek_script_name_is_greek_whatever_its_latin_spelling_looks_like():
    from namelang.inference import Classifier

    clf = Classifier.load("pretrained")
    latin, greek = clf.predict_proba(["Smith", "Σμιθ"])
    assert clf.labels[latin.argmax()] not in ("Greek", "unknown")  # what the transliteration alone gives
    assert greek[clf.labels.index("Greek")] == pytest.approx(1.0) and greek.sum() == pytest.approx(1.0)
    # Cyrillic: Russian or out of scope, in the proportions the Latin spelling gives them.
    latin, cyrillic = clf.predict_proba(["Kantor", "Кантор"])
    keep = [clf.labels.index("Russian"), clf.labels.index("unknown")]
    assert cyrillic[keep] == pytest.approx(latin[keep] / latin[keep].sum())
    # The key keeps the script: a cache of names holds both spellings apart.
    assert clf.normalize(["Σμιθ ", "Smith"]) == ["Σμιθ", "Smith"]
