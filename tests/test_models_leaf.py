"""`namelang/models/` is a leaf: it imports only the floors below it, in no circle, and the code asks the
registry about a kind of model, never its name."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from namelang.errors import NamelangError

PACKAGE = Path(__file__).resolve().parents[1] / "namelang"
# What models/ may import besides itself: the error type, the install hints, the device choice, the
# workspace's atomic writes, and the prepared split's source-cell separator (the lexicon's rows).
BELOW = {"namelang.errors", "namelang.extras", "namelang.device", "namelang.workspace", "namelang.data.split"}


def imports_of(path: Path) -> set[str]:
    """Every namelang module `path` imports, at its top or inside a function."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("namelang"):
            modules = {f"{node.module}.{alias.name}" for alias in node.names}
            found |= {m for m in modules if module_path(m) is not None} or {node.module}
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.startswith("namelang")}
    return found


def module_path(module: str) -> Path | None:
    base = PACKAGE.parent.joinpath(*module.split("."))
    for path in (base.with_suffix(".py"), base / "__init__.py"):
        if path.is_file():
            return path
    return None


def test_models_imports_nothing_above_it():
    outside = {
        f"{path.name} -> {module}"
        for path in sorted((PACKAGE / "models").glob("*.py"))
        for module in imports_of(path)
        if not module.startswith("namelang.models") and module not in BELOW
    }
    assert not outside


@pytest.mark.parametrize(
    "start", ["namelang.inference", "namelang.training.ensemble", "namelang.models.registry"]
)
def test_no_import_circle_through_models_or_inference(start):
    """Following every import from `start`, no module leads back to one on the way."""

    def visit(module: str, path: list[str]) -> None:
        assert module not in path, " -> ".join([*path, module])
        source = module_path(module)
        if source is None or module in done:
            return
        for imported in sorted(imports_of(source)):
            if imported.startswith(("namelang.models", "namelang.inference", "namelang.training.ensemble")):
                visit(imported, [*path, module])
        done.add(module)

    done: set[str] = set()
    visit(start, [])


def test_the_registry_answers_what_the_code_asks_of_a_kind():
    from namelang.models.registry import ARCHITECTURES, KINDS, kind_of, spec_from

    assert kind_of("GRU").fit_path == "network" and kind_of("gru").resumable
    assert kind_of("ngram").fit_path == "ngram" and not kind_of("ngram").resumable
    # An ensemble is a kind a card may name, made of stored models: `train` does not offer it.
    assert "ensemble" in KINDS and "ensemble" not in ARCHITECTURES and kind_of("ensemble").fit_path is None
    assert set(ARCHITECTURES) == {"rnn-classic", "rnn", "lstm", "gru", "ngram"}
    assert spec_from("ensemble").to_dict() == {}
    with pytest.raises(NamelangError, match="unknown architecture 'transformer'"):
        kind_of("transformer")


def test_a_kinds_messages_name_options_not_flags():
    from namelang.cli.options import flag_words
    from namelang.models.registry import spec_from

    for options, python, cli in [
        ({"hidden": 0}, "hidden must be positive", "--hidden must be positive"),
        ({"layers": 0}, "layers and embedding_dim must be", "--layers and --embedding-dim must be"),
        ({"dropout": 1.5}, "dropout must be in [0, 1)", "--dropout must be in [0, 1)"),
    ]:
        with pytest.raises(NamelangError) as caught:
            spec_from("gru", **options)
        assert python in str(caught.value) and "--" not in str(caught.value)
        assert cli in caught.value.worded(flag_words)
    with pytest.raises(NamelangError) as caught:
        spec_from("ngram", hidden=8, dropout=0.1)
    assert str(caught.value) == "ngram does not use dropout, hidden"
    assert caught.value.worded(flag_words) == "ngram does not use --dropout, --hidden"


def test_the_registry_imports_nothing_heavy():
    """`train --help` lists the kinds: their specs load without numpy, torch or scikit-learn."""
    import subprocess
    import sys

    code = (
        "import sys\nfrom namelang.models.registry import KINDS\n"
        "print(sorted(KINDS), [m for m in ('numpy', 'torch', 'sklearn') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "['ensemble', 'gru', 'lstm', 'ngram', 'rnn', 'rnn-classic'] []"
