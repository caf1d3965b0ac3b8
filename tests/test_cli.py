"""The CLI shell: version, help, lazy imports, error mapping."""

from __future__ import annotations

import subprocess
import sys

import pytest

from namelang import __version__

HEAVY = ("torch", "pandas", "sklearn", "matplotlib")


def _modules_after(*argv: str) -> set[str]:
    code = (
        "import sys\nfrom namelang.cli.app import main\nsys.argv = ['namelang', *sys.argv[1:]]\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        f"print('HEAVY=' + ','.join(m for m in {HEAVY!r} if m in sys.modules), file=sys.stderr)"
    )
    result = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True, check=True)
    return set(filter(None, result.stderr.rsplit("HEAVY=", 1)[1].strip().split(",")))


@pytest.mark.parametrize(
    "argv", [("--help",), ("download", "--help"), ("train", "--help"), ("predict", "--help")]
)
def test_help_imports_no_heavy_library(argv):
    assert _modules_after(*argv) == set()


def test_cpu_prediction_does_not_import_torch(tmp_path):
    # The numpy engine serves the CPU: `predict` must not pay for torch (or sklearn, matplotlib).
    # An empty workspace: the pretrained model in the package answers.
    loaded = _modules_after("predict", "Satoshi", "--device", "cpu", "--home", str(tmp_path))
    assert "torch" not in loaded and "sklearn" not in loaded and "matplotlib" not in loaded


def test_version(invoke):
    result = invoke("--version")
    assert result.exit_code == 0 and result.stdout.strip() == f"namelang {__version__}"
    module = subprocess.run([sys.executable, "-m", "namelang", "--version"], capture_output=True, text=True)
    assert module.returncode == 0 and module.stdout.strip() == f"namelang {__version__}"


def test_unknown_command_is_usage_error(invoke):
    assert invoke("frobnicate").exit_code == 2


def test_verbose_shows_traceback_for_user_error(tmp_path, invoke):
    quiet = invoke("prepare", tmp_path / "missing", "--home", tmp_path)
    loud = invoke("prepare", tmp_path / "missing", "--home", tmp_path, "--verbose")
    assert quiet.exit_code == loud.exit_code == 1
    assert "Traceback" not in quiet.stderr and "Traceback" in loud.stderr
    assert quiet.stderr.strip().splitlines()[-1] == loud.stderr.strip().splitlines()[-1]


def test_unexpected_error_is_one_line_without_verbose(tmp_path, invoke, monkeypatch):
    import namelang.data.corpus as corpus

    def broken(*args, **kwargs):
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(corpus, "read_corpus", broken)
    result = invoke("prepare", tmp_path, "--home", tmp_path)
    assert result.exit_code == 1 and "Traceback" not in result.stderr
    assert "ZeroDivisionError: a bug" in result.stderr and "--verbose" in result.stderr
