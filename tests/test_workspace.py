"""Where the workspace is: --home, else $NAMELANG_HOME, else ./data when a workspace is there already,
else the per-user folder, so that a trained model is found from any folder. conftest.py points
XDG_DATA_HOME at a temporary folder: no test touches the real one."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

from namelang.models.store import ModelStore
from namelang.workspace import locate_home, resolve_home, user_home


@pytest.fixture
def user_data(tmp_path, monkeypatch) -> Path:
    """An empty per-user data folder, no NAMELANG_HOME, and the current folder an empty one."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("NAMELANG_HOME", raising=False)
    cwd = tmp_path / "elsewhere"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    return tmp_path / "xdg" / "namelang"


def test_user_home_follows_xdg_and_the_platform(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert user_home() == tmp_path / "xdg" / "namelang"
    if sys.platform.startswith("linux"):
        monkeypatch.setenv("HOME", str(tmp_path / "me"))
        monkeypatch.setenv("XDG_DATA_HOME", "relative/path")  # the XDG rule: ignored
        assert user_home() == tmp_path / "me" / ".local" / "share" / "namelang"
        monkeypatch.delenv("XDG_DATA_HOME")
        assert user_home() == tmp_path / "me" / ".local" / "share" / "namelang"


def test_the_order_given_env_local_user(user_data, tmp_path, monkeypatch):
    assert locate_home() == (user_data, "user")
    Path("data").mkdir()  # a folder named data is not yet a workspace
    assert locate_home() == (user_data, "user")
    Path("data", "models").mkdir()
    assert locate_home() == (Path("data"), "local")
    monkeypatch.setenv("NAMELANG_HOME", str(tmp_path / "env"))
    assert locate_home() == (tmp_path / "env", "env")
    assert locate_home(tmp_path / "given") == (tmp_path / "given", "given")
    assert resolve_home("~/x") == Path.home() / "x"


def test_a_command_resolves_the_workspace_once_and_passes_it_on(user_data, tmp_path):
    """`cli/options.workspace` gives the command its Workspace; no command builds one itself."""
    from namelang.cli import options
    from namelang.workspace import Workspace

    assert options.workspace(tmp_path / "given", True, False) == Workspace(tmp_path / "given")
    assert options.workspace(None, True, False) == Workspace(user_data)
    cli = Path(options.__file__).parent
    building = sorted(p.name for p in cli.glob("*.py") if "Workspace(" in p.read_text(encoding="utf-8"))
    assert building == ["options.py"]


def test_a_trained_model_is_found_from_any_folder(tiny_trained, user_data, invoke, tmp_path):
    shutil.copytree(tiny_trained, user_data)  # as if `namelang train` had run with no --home
    for folder in (tmp_path / "a", tmp_path / "b" / "c"):
        folder.mkdir(parents=True)
        os.chdir(folder)
        result = invoke("predict", "Satoshi")
        assert result.exit_code == 0, result.output
        assert "by tiny (" in result.stderr and "note:" not in result.stderr
        assert ModelStore().default() == "tiny"  # the library resolves the same folder


def test_an_existing_local_workspace_is_used_with_a_note(tiny_trained, user_data, invoke):
    shutil.copytree(tiny_trained, Path("data"))
    result = invoke("predict", "Satoshi")
    assert result.exit_code == 0, result.output
    assert "by tiny (" in result.stderr
    note = [line for line in result.stderr.splitlines() if line.startswith("note:")]
    assert len(note) == 1 and "data" in note[0] and str(user_data) in note[0]
    assert invoke("predict", "Satoshi", "-q").stderr == ""


def test_predict_says_when_the_latest_model_is_not_the_default(tiny_trained, tmp_path, invoke):
    home = tmp_path / "home"
    shutil.copytree(tiny_trained, home)
    ModelStore(home).clear_default()  # as after `train --no-default`, or an interrupted run
    result = invoke("predict", "Satoshi", "--home", home)
    assert result.exit_code == 0, result.output
    note = [line for line in result.stderr.splitlines() if line.startswith("note:")]
    assert note == [
        "note: using the pretrained model; your latest, tiny, is not the default: namelang models default tiny"
    ]
    assert "note:" not in invoke("predict", "Satoshi", "--home", home, "-m", "pretrained").stderr  # chosen
    assert invoke("models", "default", "pretrained", "--home", home).exit_code == 0
    assert "note:" not in invoke("predict", "Satoshi", "--home", home).stderr  # chosen since: no note
    assert invoke("models", "default", "tiny", "--home", home).exit_code == 0
    assert "note:" not in invoke("predict", "Satoshi", "--home", home).stderr
