"""`pip install namelang` without torch, scikit-learn or matplotlib: scoring works, training says what to
install; `--device auto` finds no accelerator without importing torch; names typed on the command line
are scored and written without pandas, cell for cell as the table path writes them."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import assert_user_error

from namelang import device
from namelang.cli.app import app

ROOT = Path(__file__).resolve().parent.parent
NAMES = [
    "Dovesky",
    "Satoshi",
    "O'Neal",
    "Müller",
    "Иванов",
    "李",
    "",
    " ",
    "a,b",
    '"Quoted"',
    "Smith",
    "Smith",
]


def _run(argv: list[str], missing: tuple[str, ...] = (), cwd: Path | None = None):
    """`namelang *argv` in a fresh interpreter where each of `missing` fails to import, as if not
    installed; (exit code, stdout, stderr, the heavy modules it imported)."""
    code = (
        "import sys\n"
        f"for name in {missing!r}:\n    sys.modules[name] = None\n"
        "from namelang.cli.app import main\nsys.argv = ['namelang', *sys.argv[1:]]\ncode = 0\n"
        "try:\n    main()\nexcept SystemExit as exc:\n    code = exc.code or 0\n"
        "heavy = ('torch', 'pandas', 'sklearn', 'matplotlib')\n"
        "print('LOADED=' + ','.join(m for m in heavy if sys.modules.get(m)), file=sys.stderr)\n"
        "sys.exit(code)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, "-c", code, *argv], capture_output=True, text=True, cwd=cwd or ROOT, env=env
    )
    stderr, loaded = result.stderr.rsplit("LOADED=", 1)
    return result.returncode, result.stdout, stderr, set(filter(None, loaded.strip().split(",")))


@pytest.mark.parametrize("fmt", [[], ["-f", "json"], ["-f", "table"], ["-f", "tsv", "--explain", "-k", "1"]])
def test_predicting_names_imports_neither_torch_nor_pandas(tmp_path, fmt):
    code, out, err, loaded = _run(["predict", "Dovesky", "Satoshi", "--home", str(tmp_path), *fmt])
    assert code == 0, err
    assert "Dovesky" in out and "Japanese" in out
    assert loaded == set()  # no torch, pandas, scikit-learn or matplotlib


def test_predict_evaluate_and_models_work_without_torch_sklearn_matplotlib(tiny_trained, tmp_path):
    absent = ("torch", "sklearn", "matplotlib")
    code, out, err, _ = _run(["predict", "Satoshi", "--home", str(tiny_trained), "-m", "pretrained"], absent)
    assert code == 0 and "Japanese" in out, err
    names = tmp_path / "names.csv"
    names.write_text("name\nSatoshi\nDovesky\n\nNguyen\n", encoding="utf-8")
    code, out, err, _ = _run(["predict", "-i", str(names), "--home", str(tiny_trained)], absent)
    assert code == 0 and len(out.splitlines()) == 5, err
    code, out, err, _ = _run(
        ["evaluate", "--home", str(tiny_trained), "--split", "val", "-f", "json"], absent
    )
    assert code == 0 and '"macro_f1"' in out, err
    code, out, err, _ = _run(
        ["confusion", "--home", str(tiny_trained), "--split", "val", "-f", "csv"], absent
    )
    assert code == 0, err
    code, out, err, _ = _run(["models", "--home", str(tiny_trained), "-f", "json"], absent)
    assert code == 0 and '"tiny"' in out, err


def _one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:"), err
    assert "Traceback" not in err
    return lines[0]


def test_train_without_torch_says_what_to_install(tiny_home):
    code, _, err, _ = _run(["train", "--home", str(tiny_home), "--epochs", "1"], ("torch",))
    assert code == 1
    line = _one_line(err)
    assert 'pip install "namelang[train]"' in line
    assert "pip install torch --index-url https://download.pytorch.org/whl/cpu" in line


def test_accelerator_without_torch_says_what_to_install(tmp_path):
    code, _, err, _ = _run(["predict", "Satoshi", "--home", str(tmp_path), "--device", "cuda"], ("torch",))
    assert code == 1
    assert 'pip install "namelang[train]"' in _one_line(err)


def test_prepare_ensemble_and_png_say_what_to_install(tiny_trained, tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "Greek.txt").write_text("Abatzis\nAdamou\nAlexopoulos\n", encoding="utf-8")
    code, _, err, _ = _run(["prepare", str(corpus), "--home", str(tmp_path / "home")], ("sklearn",))
    assert code == 1 and 'pip install "namelang[train]"' in _one_line(err)
    twin = shutil.copytree(tiny_trained / "models" / "tiny", tmp_path / "twin")
    argv = ["ensemble", "tiny", str(twin), "--name", "e", "--home", str(tiny_trained)]
    code, _, err, _ = _run(argv, ("scipy",))
    assert code == 1 and 'pip install "namelang[train]"' in _one_line(err)
    assert not (tiny_trained / "models" / "e").exists()
    png = tmp_path / "confusion.png"
    argv = ["confusion", "--home", str(tiny_trained), "--split", "val", "-o", str(png), "-f", "csv"]
    code, _, err, _ = _run(argv, ("matplotlib",))
    assert code == 1 and 'pip install "namelang[plot]"' in err.strip().splitlines()[-1]
    assert not png.exists()


# --- --device auto: an accelerator looked for without importing torch -------------------------------


def _torch_version(monkeypatch, version: str | None) -> None:
    from importlib import metadata

    def fake(name: str) -> str:
        if name != "torch":
            return metadata.version(name)
        if version is None:
            raise metadata.PackageNotFoundError(name)
        return version

    monkeypatch.setattr(metadata, "version", fake)


@pytest.mark.parametrize(
    "version, gpu, expected",
    [(None, True, False), ("2.13.0+cpu", True, False), ("2.13.0", False, False), ("2.13.0", True, True)],
)
def test_auto_asks_torch_only_where_a_gpu_is(monkeypatch, version, gpu, expected):
    monkeypatch.setattr("platform.system", lambda: "Linux")
    _torch_version(monkeypatch, version)
    monkeypatch.setattr(device, "gpu_present", lambda: gpu)
    assert device.torch_may_see_accelerator() is expected
    monkeypatch.setattr(device, "resolve_device", lambda spec: pytest.fail("torch asked"))
    if not expected:
        assert device.inference_device("auto") is None  # the numpy engine, torch never imported


def test_gpu_present_reads_the_driver_files(monkeypatch):
    import os
    import shutil

    monkeypatch.setattr(shutil, "which", lambda name: None)
    monkeypatch.setattr(os.path, "isdir", lambda path: False)
    monkeypatch.setattr(os.path, "exists", lambda path: False)
    assert device.gpu_present() is False
    monkeypatch.setattr(os.path, "exists", lambda path: path == "/dev/nvidia0")
    assert device.gpu_present() is True
    monkeypatch.setattr(os.path, "exists", lambda path: False)
    monkeypatch.setattr(shutil, "which", lambda name: "/usr/bin/nvidia-smi" if name == "nvidia-smi" else None)
    assert device.gpu_present() is True


def test_cuda_asked_for_on_a_machine_without_it_suggests_the_cpu(invoke, tmp_path):
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    line = assert_user_error(invoke("predict", "Satoshi", "--device", "cuda", "--home", tmp_path), alone=True)
    assert "no CUDA device" in line and "--device cpu" in line


# --- names on the command line: the same output as the table path -----------------------------------


@pytest.mark.parametrize("fmt", ["csv", "tsv", "json", "jsonl"])
@pytest.mark.parametrize(
    "options",
    [{}, {"top_k": 1}, {"min_prob": 0.9}, {"prefix": "ml_", "top_k": 2}, {"explain": True}, {"top_k": 40}],
)
def test_names_path_writes_what_tag_file_writes(tmp_path, invoke, fmt, options):
    """Names on the command line (lists of cells, no pandas) and the same names read as a table
    (pandas frames): the same bytes."""
    import csv

    from namelang import Classifier, ScoreOptions, TableOptions, tag_file

    clf = Classifier.load("pretrained", tmp_path)
    table = tmp_path / "names.csv"
    with open(table, "w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows([["name"], *([n] for n in NAMES)])
    want = io.StringIO()
    args = {"top_k": 3, **options}
    tag_file(table, want, model=clf, options=ScoreOptions(**args), table=TableOptions(fmt=fmt))
    flags = ["-k", str(args["top_k"])]
    flags += ["--min-prob", str(args["min_prob"])] if "min_prob" in args else []
    flags += ["--prefix", args["prefix"]] if "prefix" in args else []
    flags += ["--explain"] if args.get("explain") else []
    result = invoke("predict", *NAMES, "-f", fmt, *flags, "--home", tmp_path)
    assert result.exit_code == 0, result.output
    assert result.stdout == want.getvalue()
    written = tmp_path / f"out.{fmt}"
    assert invoke("predict", *NAMES, *flags, "-o", written, "--home", tmp_path).exit_code == 0
    assert written.read_text(encoding="utf-8") == want.getvalue()


def test_names_path_table_matches_the_table_path(tmp_path, runner, monkeypatch):
    """The Rich table of names on the command line and of the same names read from stdin."""
    from namelang.cli import render

    monkeypatch.setattr(render.Output, "is_terminal", lambda self: True)
    monkeypatch.setenv("COLUMNS", "150")
    names = [n for n in NAMES if n.strip()]  # stdin lines: a blank line is a blank name there too
    typed = runner.invoke(app, ["predict", *names, "--explain", "--home", str(tmp_path)])
    piped = runner.invoke(
        app, ["predict", "--explain", "--home", str(tmp_path)], input="\n".join(names) + "\n"
    )
    assert typed.exit_code == piped.exit_code == 0, typed.output + piped.output
    assert typed.stdout == piped.stdout and "Satoshi" in typed.stdout and "Japanese" in typed.stdout
