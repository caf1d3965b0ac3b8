"""The CLI shell: version, help, lazy imports, error mapping."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import assert_user_error, sigint_as_a_terminal_sends_it

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


def test_home_that_is_a_file_is_one_line(tmp_path, invoke):
    home = tmp_path / "home"
    home.write_text("not a folder")
    for argv in (("prepare",), ("models",), ("train", "--epochs", "1")):
        assert_user_error(invoke(*argv, "--home", home), str(home), "is a file", alone=True)


def test_os_errors_name_the_path_and_the_reason(tmp_path, invoke, archive):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    # A folder cannot be made under a regular file: the system's reason, the path, exit 1.
    line = assert_user_error(
        invoke("download", "--url", archive, "--home", blocker / "home"), "Not a directory", alone=True
    )
    assert str(blocker / "home") in line and "unexpected" not in line
    missing = tmp_path / "missing" / "prepared.csv"
    assert_user_error(invoke("prepare", missing, "--home", tmp_path / "h"), str(missing))


@pytest.mark.skipif(os.geteuid() == 0, reason="root is never refused a folder's permissions")
def test_permission_denied_is_one_line(tmp_path, invoke, archive):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    line = assert_user_error(invoke("download", "--url", archive, "--home", locked), "Permission denied")
    assert str(locked) in line


@pytest.mark.skipif(not Path("/sys/kernel").is_dir(), reason="needs Linux's sysfs")
def test_a_folder_the_system_refuses_is_one_line(invoke, archive):
    # sysfs refuses new folders even to root: the system's own refusal, as a user would meet it.
    home = Path("/sys/namelang-test-home")
    line = assert_user_error(invoke("download", "--url", archive, "--home", home), str(home), alone=True)
    assert "not permitted" in line or "Permission denied" in line or "Read-only" in line, line


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_full_disk_behind_stdout_is_one_line(tmp_path):
    for argv in (("models", "--format", "json", "--home", str(tmp_path)), ("--version",)):
        with open("/dev/full", "w") as full:
            result = subprocess.run(
                [sys.executable, "-m", "namelang", *argv], stdout=full, stderr=subprocess.PIPE, text=True
            )
        assert result.returncode == 1, result.stderr
        assert result.stderr.strip().splitlines() == ["error: standard output: No space left on device"]


def test_ctrl_c_is_one_line_exit_130_and_leaves_no_home(tmp_path):
    home = tmp_path / "new" / "home"
    with socket.socket() as silent:  # accepts the connection and never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/data.zip"
        proc = subprocess.Popen(
            [sys.executable, "-m", "namelang", "download", "--url", url, "--home", str(home)],
            stderr=subprocess.PIPE,
            text=True,
            preexec_fn=sigint_as_a_terminal_sends_it,
        )
        silent.settimeout(60)
        connection, _ = silent.accept()  # the download is under way: now press Ctrl-C
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=60)
        connection.close()
    assert proc.returncode == 130, stderr
    assert stderr.strip().splitlines() == ["error: interrupted"]
    assert not (tmp_path / "new").exists()


def test_usage_mistakes_exit_2(invoke, tmp_path):
    assert invoke("evaluate", "--format", "yaml", "--home", tmp_path).exit_code == 2
    assert invoke("predict", "--top-k", "0", "Satoshi").exit_code == 2
    assert invoke("confusion", "--nope").exit_code == 2


def test_classifier_repr_says_what_it_is(tmp_path):
    from namelang import Classifier

    clf = Classifier.load("pretrained", home=tmp_path)
    text = repr(clf)
    assert text.startswith("Classifier(name='pretrained'") and f"labels={len(clf.labels)}" in text
    assert f"arch={clf.card.arch!r}" in text and "device='cpu'" in text and str(clf.path) in text


def test_shell_completion(invoke):
    assert "--install-completion" in invoke("--help").stdout
    env = {
        **os.environ,
        "_NAMELANG_COMPLETE": "complete_bash",
        "COMP_WORDS": "namelang conf",
        "COMP_CWORD": "1",
    }
    result = subprocess.run([sys.executable, "-m", "namelang"], env=env, capture_output=True, text=True)
    assert result.returncode == 0 and result.stdout.split() == ["confusion"]
    env.update(COMP_WORDS="namelang evaluate --format ", COMP_CWORD="3")
    result = subprocess.run([sys.executable, "-m", "namelang"], env=env, capture_output=True, text=True)
    assert result.stdout.split() == ["auto", "table", "csv", "json", "jsonl"]


COMMANDS = ["predict", "train", "evaluate", "confusion", "models", "models list", "models rm", "serve",
            "ensemble", "download", "prepare"]  # fmt: skip


def _help(invoke, monkeypatch, *argv: str) -> list[str]:
    monkeypatch.setenv("COLUMNS", "80")
    result = invoke(*argv, "--help")
    assert result.exit_code == 0, result.output
    return result.stdout.splitlines()


def test_predict_help_reads_at_80_columns(invoke, monkeypatch):
    lines = _help(invoke, monkeypatch, "predict")
    text = "\n".join(lines)
    assert len(lines) <= 60, text
    assert "pip install 'namelang[dask]'" in text  # Rich markup must not eat the extra's name
    assert "<bool>" not in text and "range" not in text
    assert "Scoring" in text and "Dask engine" in text  # options grouped in panels


@pytest.mark.parametrize("command", ["", *COMMANDS])
def test_every_help_fits_80_columns_without_bool_placeholders(invoke, monkeypatch, command):
    lines = _help(invoke, monkeypatch, *command.split())
    assert max(len(line) for line in lines) <= 80 and not any("<bool>" in line for line in lines)
    assert len(lines) <= 60


def test_models_list_is_models(invoke, tmp_path):
    plain = invoke("models", "--home", tmp_path, "-f", "csv")
    assert plain.exit_code == 0 and "pretrained" in plain.stdout
    for argv in (
        ("models", "list", "--home", tmp_path, "-f", "csv"),
        ("models", "-f", "csv", "--home", tmp_path, "list"),
    ):
        result = invoke(*argv)
        assert result.exit_code == 0, result.output
        assert result.stdout == plain.stdout
    assert invoke("models", "list", "--home", tmp_path).stdout == invoke("models", "--home", tmp_path).stdout


@pytest.mark.parametrize(
    "argv, line",
    [
        (
            ("train", "--arch", "gur"),
            "unknown architecture 'gur'; did you mean 'gru'? (choices: rnn-classic, ",
        ),
        (("predict", "-f", "jsn", "Satoshi"), "unknown format 'jsn'; did you mean 'json'? (choices: auto, "),
        (("train", "--select", "acc"), "unknown score 'acc'; did you mean 'accuracy'? (choices: macro-f1, "),
    ],
)
def test_a_mistyped_choice_is_one_line_with_the_nearest(invoke, tmp_path, argv, line):
    result = invoke(*argv, "--home", tmp_path)
    assert result.exit_code == 2  # usage
    assert result.stderr.strip().splitlines() == [result.stderr.strip()] and line in result.stderr
    assert "Traceback" not in result.output and not (tmp_path / "models").exists()


def test_a_mistyped_prior_names_the_nearest(invoke, tmp_path):
    assert_user_error(
        invoke("predict", "-m", "pretrained", "--prior", "unifrom", "Satoshi", "--home", tmp_path),
        "did you mean 'uniform'?",
    )


def test_a_library_error_names_an_option_in_python_and_the_cli_in_flags():
    from namelang.cli.options import flag_words
    from namelang.errors import NamelangError

    error = NamelangError(
        '{device=cuda:1}: no CUDA device; use {device=cpu}, or drop {top_k}; {"a": 1} stays'
    )
    assert str(error) == "device='cuda:1': no CUDA device; use device='cpu', or drop top_k; {\"a\": 1} stays"
    assert (
        error.worded(flag_words)
        == '--device cuda:1: no CUDA device; use --device cpu, or drop --top-k; {"a": 1} stays'
    )
    named = []
    error.worded(lambda name, value: named.append(name) or name)
    assert named == ["device", "device", "top_k"]
    assert flag_words("fmt", "csv") == "--format csv"


def test_a_users_text_in_braces_is_not_read_as_an_option(invoke, tmp_path):
    """A path `{in}.csv` or a column `{country}` is the user's text: only the options a message may
    name (errors.OPTION_NAMES) are worded as flags (on main these printed `--in.csv`, `'--country'`)."""
    from namelang.errors import OPTION_NAMES, NamelangError

    assert str(NamelangError("no such file: {in}.csv; see {top_k}")) == "no such file: {in}.csv; see top_k"
    missing = invoke("predict", "-i", tmp_path / "{in}.csv")
    assert missing.exit_code == 1 and "{in}.csv" in missing.stderr and "--in" not in missing.stderr
    table = tmp_path / "people.csv"
    table.write_text("name\nSatoshi\n", encoding="utf-8")
    column = invoke("predict", "-i", table, "--column", "{country}")
    assert column.exit_code == 1 and "'{country}'" in column.stderr and "--country" not in column.stderr
    assert {"lr", "hidden", "embedding_dim", "teacher"} <= OPTION_NAMES  # added by the records of options


def test_a_users_text_that_spells_an_option_is_inserted_as_written(invoke, tmp_path):
    """A user's value in a message is `errors.literal(value)` (its braces doubled), so even one that spells
    an option a message may name, `{prior=train}`, reads as written (on main: `--prior train`)."""
    from namelang.cli.options import flag_words
    from namelang.errors import NamelangError, literal

    assert literal("{a}}") == "{{a}}}}" and literal(3) == "3"
    error = NamelangError(
        f"no such file: {literal('{model}.csv')}; no column {literal('{prior=train}')!r}; {{top_k}}"
    )
    assert str(error) == "no such file: {model}.csv; no column '{prior=train}'; top_k"
    assert error.worded(flag_words) == "no such file: {model}.csv; no column '{prior=train}'; --top-k"
    valued = NamelangError(f"{{resume={literal('a{b}')}}} and {literal('}')}")  # a user's brace in a value
    assert (str(valued), valued.worded(flag_words)) == ("resume='a{b}' and }", "--resume a{b} and }")

    missing = invoke("predict", "--input", tmp_path / "{model}.csv")
    assert missing.exit_code == 1 and "no such file: " in missing.stderr
    assert f"{tmp_path / '{model}.csv'}" in missing.stderr and "--model" not in missing.stderr
    split = invoke("evaluate", "-m", "pretrained", "--split", "{prior=train}", "--home", tmp_path)
    assert split.exit_code == 1 and "; '{prior=train}' is none of these" in split.stderr
    removed = invoke("models", "rm", "{prior=train}", "--yes", "--home", tmp_path)
    assert removed.exit_code == 1 and "invalid model name '{prior=train}'" in removed.stderr
    assert "--prior" not in split.stderr + removed.stderr


def test_a_column_that_spells_an_option_is_named_as_written(invoke, tmp_path):
    table = tmp_path / "people.csv"
    table.write_text("name\nSatoshi\n", encoding="utf-8")
    column = invoke("predict", "-i", table, "--column", "{prior=train}")
    assert (
        column.exit_code == 1
        and "no column '{prior=train}'" in column.stderr
        and "--prior" not in column.stderr
    )


def test_every_option_a_library_message_names_is_one_it_may_name():
    """Each `{name}` / `{name=value}` written in a message of namelang/ is in errors.OPTION_NAMES, so it
    is worded as Python or as a flag (a new option must be added there, or by its record)."""
    import ast
    import re

    import namelang.config  # noqa: F401  (the records that add their options)
    import namelang.models.registry  # noqa: F401
    from namelang.errors import OPTION_NAMES

    pattern = re.compile(r"\{([a-z][a-z0-9_]*)(?:=[^{}]*)?\}")
    root = Path(__file__).resolve().parents[1] / "namelang"
    unknown = set()
    for path in root.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        docstrings = {
            id(node.body[0].value)
            for node in ast.walk(tree)
            if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
            and node.body
            and isinstance(node.body[0], ast.Expr)
            and isinstance(node.body[0].value, ast.Constant)
        }
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
                unknown |= {f"{path.name}: {m.group(1)}" for m in pattern.finditer(node.value)} - {
                    f"{path.name}: {name}" for name in OPTION_NAMES
                }
    assert not unknown
