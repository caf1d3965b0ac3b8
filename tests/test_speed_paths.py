"""The fast paths of scoring give exactly what the plain ones give: encoding, normalising, threads, cache."""

from __future__ import annotations

import re

import numpy as np
import pytest

from namelang.data.alphabet import UNKNOWN, Alphabet
from namelang.data.normalize import normalize_name, unicode_to_ascii
from namelang.inference import Classifier
from namelang.models.forward import batched_logits


def plain_encode(alphabet: Alphabet, names: list[str], max_length: int):
    """The obvious per-character loop the vectorised `Alphabet.encode` replaces."""
    index = {c: i + 2 for i, c in enumerate(alphabet.chars)}
    lengths = np.array([min(len(n), max_length) for n in names], dtype=np.int64)
    ids = np.zeros((len(names), max(int(lengths.max(initial=0)), 1)), dtype=np.int64)
    for row, name in enumerate(names):
        for col, char in enumerate(name[:max_length]):
            ids[row, col] = index.get(char, UNKNOWN)
    return ids, lengths


@pytest.mark.parametrize("max_length", [3, 64])
def test_vectorised_encoding_equals_the_per_character_loop(max_length):
    alphabet = Alphabet("abcéСм山")
    # unknown characters, a non-BMP one, a lone surrogate (a file read with errors="surrogateescape")
    names = ["abc", "", "Смx山", "zzzz", "é😀a", "a" * 70, "\udcff", "b"]
    got_ids, got_lengths = alphabet.encode(names, max_length)
    want_ids, want_lengths = plain_encode(alphabet, names, max_length)
    assert got_lengths.tolist() == want_lengths.tolist()
    assert got_ids.tolist() == want_ids.tolist()
    assert alphabet.encode([], max_length)[0].shape == (0, 1)


@pytest.mark.parametrize("char", [chr(c) for c in range(128)])
def test_ascii_fast_path_collapses_whitespace_as_the_pattern_does(char):
    text = f" {char}a{char}{char}b\t{char} "
    pattern = re.sub(r"\s+", " ", text).strip()
    assert normalize_name(text) == pattern
    assert normalize_name(text, ascii_only=True) == re.sub(r"\s+", " ", unicode_to_ascii(pattern)).strip()


def test_threads_give_the_same_logits(tiny_trained):
    clf = Classifier.load(home=tiny_trained)
    names = clf.normalize([f"Name{'abcdefgh'[i % 8] * (i % 11)}" for i in range(300)])
    ids, lengths = clf.alphabet.encode(names, clf.max_length)
    one = batched_logits(clf.run, ids, lengths, batch_size=16, threads=1)
    two = batched_logits(clf.run, ids, lengths, batch_size=16, threads=3)
    assert np.array_equal(one, two)
    assert np.all(one[lengths == 0] == 0) and one.shape == (300, len(clf.labels))


def test_distinct_proba_is_predict_proba_of_normal_forms(tiny_trained):
    clf = Classifier.load(home=tiny_trained)
    clf.threads = 2
    raw = ["  Smith ", "Смирнова", "王", "حداد", "Παπαδόπουλος", "", "O'Neil", "Smith"]
    normal = sorted(set(clf.normalize(raw)))
    distinct = clf.distinct_proba(normal, batch_size=2)
    by_name = dict(zip(normal, distinct))
    whole = clf.predict_proba(raw, batch_size=2)
    for name, row in zip(clf.normalize(raw), whole):
        assert np.allclose(row, by_name[name], equal_nan=True)
    assert np.isnan(by_name[""]).all()
    # non-ASCII names still reach the script rules: Han (one character) -> Chinese, Arabic script -> Arabic
    assert by_name["王"][clf.labels.index("Chinese")] == 1.0
    assert by_name["حداد"][clf.labels.index("Arabic")] == 1.0


def test_predict_threads_option_gives_identical_output(tiny_trained, invoke, tmp_path):
    source = tmp_path / "in.csv"
    source.write_text("name\n" + "".join(f"Nam{'xyzabc'[i % 6] * (i % 9)}\n" for i in range(2000)))
    outputs = []
    for threads in (1, 2):
        out = tmp_path / f"out{threads}.csv"
        result = invoke("predict", "-i", source, "-o", out, "--threads", threads, "--batch-size", 500,
                        "--home", tiny_trained)  # fmt: skip
        assert result.exit_code == 0, result.output
        outputs.append(out.read_bytes())
    assert outputs[0] == outputs[1] and outputs[0].count(b"\n") == 2001
    assert invoke("predict", "Smith", "--threads", 0, "--home", tiny_trained).exit_code == 2


@pytest.mark.parametrize("arch", ["rnn", "gru", "lstm"])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_shared_prefixes_give_the_per_name_logits(arch, bidirectional):
    """Names from a 3-letter alphabet share most prefixes and suffixes; blocks of 4 rows cross them."""
    import torch

    from namelang.models import prefix_sharing
    from namelang.models.forward import torch_runner
    from namelang.models.registry import spec_from

    torch.manual_seed(0)
    spec = spec_from(arch, hidden=8, embedding_dim=4, bidirectional=bidirectional)
    module = spec.build(5, 3).eval()
    engine = spec.numpy_engine({k: v.numpy().copy() for k, v in module.state_dict().items()}, 5, 3)
    assert engine.shares_prefixes
    rng = np.random.default_rng(1)
    lengths = rng.integers(0, 7, size=200)
    ids = np.zeros((200, 6), dtype=np.int64)
    for row, length in enumerate(lengths):
        ids[row, :length] = rng.integers(2, 5, size=length)
    plain = batched_logits(lambda i, n: engine(i, n), ids, lengths, batch_size=16)  # no sharing
    block = prefix_sharing.BLOCK
    try:
        prefix_sharing.BLOCK = 4
        shared = batched_logits(engine, ids, lengths, threads=1)
        threaded = batched_logits(engine, ids, lengths, threads=3)
    finally:
        prefix_sharing.BLOCK = block
    expected = batched_logits(torch_runner(module, torch.device("cpu")), ids, lengths)
    assert np.allclose(shared, plain, atol=1e-5) and np.allclose(shared, expected, atol=1e-4)
    assert np.array_equal(shared, threaded)
    assert np.all(shared[lengths == 0] == 0)


def test_two_layers_do_not_share_prefixes():
    from namelang.models.registry import spec_from

    spec = spec_from("gru", hidden=4, embedding_dim=2, layers=2, bidirectional=True)
    state = {k: v.numpy() for k, v in spec.build(5, 3).state_dict().items()}
    assert not spec.numpy_engine(state, 5, 3).shares_prefixes


def test_reversed_names_reverse_each_name_within_its_length():
    from namelang.models.prefix_sharing import reversed_names

    ids = np.array([[2, 3, 4, 0], [5, 6, 0, 0], [7, 0, 0, 0]])
    got = reversed_names(ids, np.array([3, 2, 1]))
    assert got.tolist() == [[4, 3, 2, 0], [6, 5, 0, 0], [7, 0, 0, 0]]


def test_delimiter_is_sniffed_from_the_first_lines_of_a_long_quoted_sample():
    from pathlib import Path

    from namelang.data.corpus import sniff_delimiter

    sample = "id;surname;city\n" + "".join(f'{i};"Name{i}";"Lyon"\n' for i in range(5000))
    assert sniff_delimiter(sample, Path("big.csv")) == ";"
    assert sniff_delimiter('"a"|"b"|"c"' * 1000, Path("one-line.csv")) == "|"  # no line end to cut at


def _random_ids(rng, count: int, width: int, n_chars: int):
    lengths = rng.integers(1, width + 1, size=count)
    ids = np.zeros((count, width), dtype=np.int64)
    for row, length in enumerate(lengths):
        ids[row, :length] = rng.integers(2, n_chars, size=length)
    return ids, lengths


@pytest.mark.parametrize("arch, options", [
    ("gru", {"bidirectional": True}), ("lstm", {}), ("rnn", {"bidirectional": True}),
    ("gru", {"layers": 2, "bidirectional": True}), ("rnn-classic", {}),
])  # fmt: skip
def test_a_names_logits_do_not_depend_on_the_names_beside_it(arch, options):
    """Bit for bit: a name alone, among a few or many others of other lengths, in batches of any size,
    on one thread or two, shared prefixes or not (BLAS sums a row in an order set by its position)."""
    from namelang.models import prefix_sharing
    from namelang.models.registry import spec_from

    rng = np.random.default_rng(3)
    extra = {} if arch == "rnn-classic" else {"embedding_dim": 8}
    module = spec_from(arch, hidden=32, **extra, **options).build(12, 5).eval()
    engine = spec_from(arch, hidden=32, **extra, **options).numpy_engine(
        {k: v.numpy().copy() for k, v in module.state_dict().items()}, 12, 5
    )
    names, lengths = _random_ids(rng, 40, 12, 12)
    alone = np.concatenate([batched_logits(engine, names[i : i + 1], lengths[i : i + 1]) for i in range(40)])
    block = prefix_sharing.BLOCK
    try:
        for crowd, batch_size, threads, block_rows in [
            (3, 512, 1, 512),
            (700, 64, 2, 512),
            (2000, 2048, 1, 7),
        ]:
            prefix_sharing.BLOCK = block_rows
            others, other_lengths = _random_ids(rng, crowd, 12, 12)
            ids, all_lengths = np.concatenate([others, names]), np.concatenate([other_lengths, lengths])
            order = rng.permutation(len(ids))
            got = batched_logits(engine, ids[order], all_lengths[order], batch_size, threads)
            assert np.array_equal(got[np.argsort(order)][crowd:], alone), (crowd, batch_size, threads)
    finally:
        prefix_sharing.BLOCK = block


def test_the_same_name_gets_the_same_text_whatever_is_scored_with_it(tmp_path):
    """The shipped model, through `predict_proba` and the printed six decimals."""
    import random
    import string

    clf = Classifier.load("pretrained", tmp_path, device="cpu")
    rng = random.Random(0)
    targets = ["Satoshi", "Dovesky", "Nguyen", "Papadopoulos", "O'Neill", "Ab", "Kowalczykowski"]
    alone = np.concatenate([clf.predict_proba([name]) for name in targets])
    for count in (2, 300, 3000):
        others = ["".join(rng.choices(string.ascii_letters, k=rng.randint(1, 30))) for _ in range(count)]
        mixed = targets + others
        rng.shuffle(mixed)
        got = clf.predict_proba(mixed)[[mixed.index(name) for name in targets]]
        assert np.array_equal(got, alone), count
        assert [f"{p:.6f}" for p in got.ravel()] == [f"{p:.6f}" for p in alone.ravel()]
