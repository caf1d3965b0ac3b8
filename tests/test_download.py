"""`namelang download` over a real loopback HTTP server, file:// URLs and local paths."""

from __future__ import annotations

import io
import json
import stat
import zipfile

from conftest import ARCHIVE_SHA256, assert_user_error, write_zip

from namelang.data.download import download


def test_http_download_extracts_verifies_and_reports(server, archive, tmp_path, invoke):
    url = server.serve("/data.zip", archive.read_bytes())
    result = invoke("download", "--url", url, "--sha256", ARCHIVE_SHA256, "--home", tmp_path)
    assert result.exit_code == 0, result.output
    files = sorted(p.name for p in (tmp_path / "raw" / "data" / "names").glob("*.txt"))
    assert len(files) == 18 and "Arabic.txt" in files
    record = json.loads((tmp_path / "raw" / "download.json").read_text())
    assert record["sha256"] == ARCHIVE_SHA256 and record["url"] == url
    # The summary table: one row per language and a total that matches the files.
    lines = sum(len(p.read_text().splitlines()) for p in (tmp_path / "raw" / "data" / "names").glob("*.txt"))
    assert "Arabic" in result.stderr and f"{lines:,}" in result.stderr
    assert result.stdout == ""


def test_rerun_is_a_no_op_unless_forced(server, archive, tmp_path, invoke):
    url = server.serve("/data.zip", archive.read_bytes())
    assert invoke("download", "--url", url, "--home", tmp_path).exit_code == 0
    marker = tmp_path / "raw" / "marker"
    marker.write_text("kept")
    again = invoke("download", "--url", url, "--home", tmp_path)
    assert again.exit_code == 0 and "already there" in again.stderr and marker.exists()
    forced = invoke("download", "--url", url, "--home", tmp_path, "--force")
    assert forced.exit_code == 0 and not marker.exists()


def test_file_url_and_plain_path(archive, tmp_path, invoke):
    assert invoke("download", "--url", archive.as_uri(), "--home", tmp_path / "a").exit_code == 0
    assert invoke("download", "--url", str(archive), "--home", tmp_path / "b").exit_code == 0
    assert (tmp_path / "a" / "raw" / "data" / "names" / "Greek.txt").read_bytes() == (
        tmp_path / "b" / "raw" / "data" / "names" / "Greek.txt"
    ).read_bytes()


def _assert_clean_failure(result, home, *words):
    assert_user_error(result, *words, alone=True)
    assert not (home / "raw").exists()
    leftovers = [p for p in home.iterdir()] if home.exists() else []
    assert leftovers == [], leftovers


def test_http_404(server, tmp_path, invoke):
    url = server.serve("/missing.zip", b"nope", status=404)
    result = invoke("download", "--url", url, "--home", tmp_path)
    _assert_clean_failure(result, tmp_path, "404", "--url")


def test_truncated_body(server, archive, tmp_path, invoke):
    body = archive.read_bytes()
    url = server.serve("/data.zip", body, truncate=True)
    result = invoke("download", "--url", url, "--home", tmp_path)
    _assert_clean_failure(result, tmp_path, "ended early")


def test_connection_refused(tmp_path, invoke):
    import socket

    with socket.socket() as sock:  # a port that was free a moment ago and has no listener now
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = invoke("download", "--url", f"http://127.0.0.1:{port}/data.zip", "--home", tmp_path)
    _assert_clean_failure(result, tmp_path, "cannot reach", "refused")


def test_checksum_mismatch(server, archive, tmp_path, invoke):
    url = server.serve("/data.zip", archive.read_bytes())
    result = invoke("download", "--url", url, "--sha256", "0" * 64, "--home", tmp_path)
    _assert_clean_failure(result, tmp_path, "checksum mismatch")


def test_not_a_zip(server, tmp_path, invoke):
    url = server.serve("/data.zip", b"<html>this is a login page</html>")
    result = invoke("download", "--url", url, "--home", tmp_path)
    _assert_clean_failure(result, tmp_path, "not a zip")


def test_refuses_path_traversal(server, tmp_path, invoke):
    bad = write_zip(tmp_path / "evil.zip", {"data/names/Greek.txt": b"Pappas\n", "../evil": b"owned"})
    home = tmp_path / "home"
    result = invoke("download", "--url", server.serve("/evil.zip", bad.read_bytes()), "--home", home)
    _assert_clean_failure(result, home, "leaves the folder")
    assert not (tmp_path / "evil").exists()


def test_refuses_absolute_path(server, tmp_path, invoke):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr(zipfile.ZipInfo("/tmp/namelang-evil"), b"owned")
    home = tmp_path / "home"
    result = invoke("download", "--url", server.serve("/abs.zip", buffer.getvalue()), "--home", home)
    _assert_clean_failure(result, home, "absolute path")


def test_refuses_symlink(server, tmp_path, invoke):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        info = zipfile.ZipInfo("data/names/link.txt")
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(info, "/etc/passwd")
    home = tmp_path / "home"
    result = invoke("download", "--url", server.serve("/link.zip", buffer.getvalue()), "--home", home)
    _assert_clean_failure(result, home, "symbolic link")


def test_refuses_zip_bomb(server, tmp_path, invoke, monkeypatch):
    import namelang.data.download as dl

    monkeypatch.setattr(dl, "MAX_EXPANDED_BYTES", 1 << 20)
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("data/names/Zero.txt", b"0" * (4 << 20))
    home = tmp_path / "home"
    result = invoke("download", "--url", server.serve("/bomb.zip", bomb.getvalue()), "--home", home)
    _assert_clean_failure(result, home, "expands past")


def test_failed_forced_redownload_keeps_old_data(server, archive, tmp_path, invoke):
    good = server.serve("/data.zip", archive.read_bytes())
    assert invoke("download", "--url", good, "--home", tmp_path).exit_code == 0
    before = {p.name: p.read_bytes() for p in (tmp_path / "raw" / "data" / "names").iterdir()}
    broken = server.serve("/broken.zip", archive.read_bytes(), truncate=True)
    result = invoke("download", "--url", broken, "--home", tmp_path, "--force")
    assert result.exit_code == 1 and "ended early" in result.stderr
    after = {p.name: p.read_bytes() for p in (tmp_path / "raw" / "data" / "names").iterdir()}
    assert after == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["raw"]  # no temporary files left


def test_library_reports_progress(server, archive, tmp_path):
    seen = []
    url = server.serve("/data.zip", archive.read_bytes())
    result = download(tmp_path, url=url, progress=lambda done, total: seen.append((done, total)))
    assert seen[-1] == (archive.stat().st_size, archive.stat().st_size)
    assert result.size == archive.stat().st_size and not result.skipped


def test_timeout(tmp_path, invoke):
    import socket

    with socket.socket() as silent:  # accepts connections into its backlog and never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        port = silent.getsockname()[1]
        result = invoke(
            "download", "--url", f"http://127.0.0.1:{port}/data.zip", "--timeout", "0.5", "--home", tmp_path
        )
    _assert_clean_failure(result, tmp_path, "timed out", "--url")


def test_failed_first_download_leaves_no_empty_home(server, tmp_path, invoke):
    home = tmp_path / "new" / "home"
    url = server.serve("/missing.zip", b"nope", status=404)
    assert_user_error(invoke("download", "--url", url, "--home", home), "404", alone=True)
    assert not (tmp_path / "new").exists()
    existing = tmp_path / "kept"
    existing.mkdir()
    assert_user_error(invoke("download", "--url", url, "--home", existing), "404")
    assert existing.is_dir() and list(existing.iterdir()) == []  # a folder the user had stays


def test_a_malformed_sha256_is_a_usage_error(invoke, tmp_path):
    result = invoke("download", "--url", "/nonexistent.zip", "--sha256", "xyz", "--home", tmp_path / "h")
    assert result.exit_code == 2, result.output
    assert "64 hexadecimal digits" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "h").exists()
