"""The output sink: one auto rule for --format, tables that fit 80 and 120 columns, machine formats."""

from __future__ import annotations

import csv
import io
import json
import os
import pty
import re
import subprocess
import sys

import numpy as np
import pytest
from conftest import FIXTURE_NAMES, assert_user_error
from rich.console import Console

from namelang.cli.confusion import cell_text, heatmap
from namelang.cli.render import Format, StreamWriter
from namelang.plots import cell_label

LABELS_18 = sorted(p.stem for p in FIXTURE_NAMES.glob("*.txt"))


@pytest.fixture(scope="module")
def split_18(tmp_path_factory):
    """A labelled CSV holding every name of the fixture: 18 languages, for the pretrained model."""
    path = tmp_path_factory.mktemp("split") / "names18.csv"
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["name", "label"])
        for label in LABELS_18:
            for name in (FIXTURE_NAMES / f"{label}.txt").read_text(encoding="utf-8").split():
                writer.writerow([name, label])
    return path


def _confusion_table(invoke, monkeypatch, split, home, width: int) -> list[str]:
    monkeypatch.setenv("COLUMNS", str(width))
    result = invoke("confusion", "-m", "pretrained", "--split", split, "--home", home, "-f", "table")
    assert result.exit_code == 0, result.output
    return result.stdout.rstrip("\n").splitlines()


def test_heatmap_of_18_labels_fits_80_columns_compactly(invoke, monkeypatch, split_18, tmp_path):
    lines = _confusion_table(invoke, monkeypatch, split_18, tmp_path, 80)
    assert max(len(line.rstrip()) for line in lines) <= 80, "\n".join(lines)
    assert "Vietnamese" not in "\n".join(lines[:22])  # rows are abbreviated like the columns
    assert any(line.startswith("Vie") for line in lines)
    assert any("--csv" in line and "--output" in line for line in lines)  # where the full matrix is
    header = next(line for line in lines if "Ara" in line and "Vie" in line)
    assert header.split()[:18] == [label[:3] for label in LABELS_18]  # then `unk` for the shipped model


def test_heatmap_of_18_labels_at_120_columns_shows_full_row_labels(invoke, monkeypatch, split_18, tmp_path):
    lines = _confusion_table(invoke, monkeypatch, split_18, tmp_path, 120)
    assert max(len(line.rstrip()) for line in lines) <= 120
    assert any("Vietnamese" in line and "│" in line for line in lines)
    assert "true \\ pred" in "\n".join(lines)
    assert not any("--csv" in line for line in lines)


def test_cells_that_print_as_zero_are_blank():
    matrix = np.array([[0.996, 0.004], [0.0049, 0.9951]])
    assert [cell_text(v, True) for v in matrix.ravel()] == ["100", "", "", "100"]
    assert cell_text(0.006, True) == "1" and cell_text(3.0, False) == "3" and cell_text(0.0, False) == ""
    # The figure prints fractions with two decimals: below 0.005 is blank there.
    assert [cell_label(v, True) for v in (0.004, 0.006, 0.5)] == ["", "0.01", "0.50"]
    console = Console(width=80, record=True, color_system=None)
    console.print(heatmap(matrix, ["Aa", "Bb"], True, "t", width=80))
    rows = [
        line for line in console.export_text().splitlines() if line.startswith("│A") or line.startswith("│B")
    ]
    assert [row.replace("│", " ").split() for row in rows] == [["Aa", "100"], ["Bb", "100"]]


def test_piped_confusion_is_the_matrix_as_csv_and_json(invoke, split_18, tmp_path):
    piped = invoke("confusion", "-m", "pretrained", "--split", split_18, "--home", tmp_path)
    assert piped.exit_code == 0, piped.output
    rows = list(csv.DictReader(io.StringIO(piped.stdout)))
    labels = [r["true"] for r in rows]  # the model's labels: the 18 (and `unknown` for the shipped one)
    assert labels[:18] == LABELS_18
    assert all(abs(sum(float(r[label]) for label in labels) - 1) < 1e-4 for r in rows[:18])
    data = json.loads(
        invoke("confusion", "-m", "pretrained", "--split", split_18, "--home", tmp_path, "-f", "json").stdout
    )
    assert data["labels"] == labels and len(data["matrix"]) == len(labels) and data["pairs"]
    assert np.allclose(
        np.array(data["matrix"]), [[float(r[label]) for label in labels] for r in rows], atol=1e-6
    )


def test_format_not_offered_is_a_usage_error(invoke, tmp_path):
    result = invoke("confusion", "-m", "pretrained", "--home", tmp_path, "-f", "jsonl")
    assert result.exit_code == 2 and "jsonl" in result.output and "Traceback" not in result.output


def test_evaluate_csv_and_jsonl_agree_with_json(tiny_trained, invoke):
    report = json.loads(invoke("evaluate", "--home", tiny_trained, "--split", "val", "-f", "json").stdout)
    rows = list(
        csv.DictReader(
            io.StringIO(invoke("evaluate", "--home", tiny_trained, "--split", "val", "-f", "csv").stdout)
        )
    )
    assert len(rows) == 1 and rows[0]["model"] == "tiny"
    assert float(rows[0]["macro_f1"]) == pytest.approx(report["macro_f1"], abs=1e-6)
    assert int(rows[0]["n"]) == report["n"]
    lines = invoke("evaluate", "-m", "tiny", "-m", "pretrained", "--home", tiny_trained, "-f", "jsonl").stdout
    assert [json.loads(line)["model"] for line in lines.splitlines()] == ["tiny", "pretrained"]


def test_output_into_a_missing_folder_is_one_line_and_creates_nothing(tiny_trained, invoke, tmp_path):
    target = tmp_path / "no" / "such" / "cm.csv"
    result = invoke("confusion", "--home", tiny_trained, "--split", "val", "--csv", target)
    assert_user_error(result, str(target.parent), "does not exist", alone=True)
    assert not (tmp_path / "no").exists()


def test_stream_writer_json_shapes():
    empty = io.StringIO()
    StreamWriter(empty, Format.json).close()
    assert json.loads(empty.getvalue()) == []
    handle = io.StringIO()
    writer = StreamWriter(handle, Format.json)
    writer.records([{"a": 1}])
    writer.records([{"a": 2}])
    writer.close()
    assert json.loads(handle.getvalue()) == [{"a": 1}, {"a": 2}]
    lines = io.StringIO()
    writer = StreamWriter(lines, Format.csv)
    writer.records([{"a": 1, "b": 0.5}, {"a": 2, "b": None}])
    writer.records([{"a": 3, "b": 1.25}])
    assert lines.getvalue() == "a,b\n1,0.5\n2,\n3,1.25\n"


def test_on_a_terminal_the_default_is_a_table_that_fits(tiny_trained):
    """A real pseudo-terminal as stdout: the auto rule picks the table; COLUMNS=80 is respected."""
    leader, follower = pty.openpty()
    env = {**os.environ, "COLUMNS": "80", "NO_COLOR": "1"}
    code = "from namelang.cli.app import main; main()"
    proc = subprocess.Popen(
        [sys.executable, "-c", code, "evaluate", "--home", str(tiny_trained), "--split", "val"],
        stdout=follower,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    os.close(follower)
    chunks = [_read_terminal(leader)]
    assert proc.wait(timeout=60) == 0
    # NO_COLOR drops colours, not bold or italic: measure the text without its escape codes.
    text = re.sub(r"\x1b\[[0-9;]*m", "", b"".join(chunks).decode("utf-8").replace("\r\n", "\n"))
    assert "macro-F1" in text and "per label" in text and not text.lstrip().startswith("{")
    assert max(len(line) for line in text.splitlines()) <= 80


def test_models_list_in_every_machine_format(tiny_trained, invoke):
    as_json = json.loads(invoke("models", "--home", tiny_trained).stdout)  # piped: JSON
    rows = list(csv.DictReader(io.StringIO(invoke("models", "--home", tiny_trained, "-f", "csv").stdout)))
    lines = invoke("models", "--home", tiny_trained, "-f", "jsonl").stdout.splitlines()
    assert [r["name"] for r in as_json] == [r["name"] for r in rows] == [json.loads(x)["name"] for x in lines]
    assert {"tiny", "pretrained"} <= {r["name"] for r in rows}
    table = invoke("models", "--home", tiny_trained, "-f", "table")
    assert table.exit_code == 0 and "val macro-F1" in table.stdout


def _on_a_terminal(args: list[str], home, stdout_too: bool = True) -> tuple[bytes, bytes]:
    """`namelang ARGS` with stderr (and stdout, unless `stdout_too` is False: a pipe) on a pseudo-terminal
    80 columns wide: (what the terminal received, what the pipe received)."""
    leader, follower = pty.openpty()
    env = {**os.environ, "COLUMNS": "80", "NAMELANG_HOME": str(home)}
    code = "from namelang.cli.app import main; main()"
    proc = subprocess.Popen(
        [sys.executable, "-c", code, *args],
        stdout=follower if stdout_too else subprocess.PIPE,
        stderr=follower,
        stdin=subprocess.DEVNULL,
        env=env,
    )
    os.close(follower)
    terminal = _read_terminal(leader)
    piped = b"" if proc.stdout is None else proc.stdout.read()
    assert proc.wait(timeout=60) == 0
    return terminal, piped


def _read_terminal(leader: int) -> bytes:
    """All a pseudo-terminal received until it closed (when the process ended); the leader is closed."""
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the terminal closes when the process ends
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    return b"".join(chunks)


def test_the_table_is_not_glued_to_the_progress_bar(tmp_path):
    """The bar (stderr) is gone before the table (stdout) starts: its top border begins a line."""
    terminal, _ = _on_a_terminal(["predict", "-m", "pretrained", "Dovesky", "Satoshi"], tmp_path)
    text = terminal.decode("utf-8")
    before = text[: text.index("┏")]
    assert before == "" or before.endswith(("\n", "\x1b[2K")), repr(before[-80:])
    assert "Japanese" in text


def test_a_redirected_stdout_gets_the_data_while_the_bar_shows_on_the_terminal(tmp_path):
    """`namelang predict … > out.csv` in a terminal: Rich must not carry stdout's rows to stderr."""
    terminal, piped = _on_a_terminal(["predict", "-m", "pretrained", "Satoshi"], tmp_path, stdout_too=False)
    rows = list(csv.DictReader(io.StringIO(piped.decode("utf-8"))))
    assert [(r["name"], r["prediction"]) for r in rows] == [("Satoshi", "Japanese")]
    assert b"Satoshi," not in terminal and b"1 row scored" in terminal
