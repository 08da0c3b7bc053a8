"""Upload names never become paths outside the upload folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from adaptlab.serve.uploads import safe_filename, upload_path


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("../../etc/passwd", "passwd"),
        ("..\\..\\windows\\win.ini", "win.ini"),
        ("/abs/path/bericht.pdf", "bericht.pdf"),
        (".env", "env"),
        ("Prüfbericht Windpark.md", "Prüfbericht Windpark.md"),
        ("a\x00b;rm -rf.txt", "a_b_rm -rf.txt"),
        ("..", "upload"),
        ("", "upload"),
        (None, "upload"),
    ],
)
def test_safe_filename(name: str | None, expected: str) -> None:
    assert safe_filename(name) == expected


def test_long_names_keep_their_extension() -> None:
    name = safe_filename("x" * 500 + ".pdf")
    assert len(name) <= 120 and name.endswith(".pdf")


def test_upload_path_stays_in_the_folder(tmp_path: Path) -> None:
    for name in ("../../x.txt", "a/../../b.txt", "/etc/passwd", "..\\c.txt"):
        assert upload_path(tmp_path, name).parent == tmp_path.resolve()
