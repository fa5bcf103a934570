"""The safe YAML loader: the mistakes non-programmers make get clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from advisor.errors import InputError
from advisor.yamlload import MAX_BYTES, load_file, load_text


def problems(text: str) -> list[str]:
    with pytest.raises(InputError) as exc:
        load_text(text, "f.yaml")
    return [str(p) for p in exc.value.problems]


def test_norway_and_yes_stay_text_and_dates_stay_strings() -> None:
    doc = load_text("a: NO\nb: yes\nc: on\nd: true\ne: 2025-08-02\n", "f.yaml")
    assert doc.data == {"a": "NO", "b": "yes", "c": "on", "d": True, "e": "2025-08-02"}


def test_positions_are_recorded_per_path() -> None:
    doc = load_text("top:\n  inner: [1, 2]\n", "f.yaml")
    assert doc.where(("top", "inner", 1)) == (2, 14)
    assert doc.key_where(("top", "inner")) == (2, 3)


def test_duplicate_keys_are_rejected_with_both_lines() -> None:
    (msg,) = problems("a: 1\nb: 2\na: 3\n")
    assert msg.startswith("f.yaml:3:1: duplicate key 'a' (first defined on line 1)")


def test_nested_duplicate_keys_all_reported() -> None:
    msgs = problems("a:\n  x: 1\n  x: 2\nb:\n  y: 1\n  y: 2\n")
    assert [m.split(":")[1] for m in msgs] == ["3", "6"]


def test_alias_bomb_is_refused() -> None:
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a]\n" \
           "c: &c [*b, *b, *b, *b, *b, *b, *b, *b]\nd: [*c, *c, *c, *c, *c, *c, *c, *c]\n"
    (msg,) = problems(bomb)
    assert "YAML alias" in msg and msg.startswith("f.yaml:1:")


def test_merge_keys_are_refused() -> None:
    msgs = problems("base: {a: 1}\nother:\n  <<: {a: 2}\n")
    assert "merge keys" in msgs[0]


def test_malformed_yaml_points_at_the_line() -> None:
    (msg,) = problems("a: 1\nb: [1, 2\nc: 3\n")
    assert msg.startswith("f.yaml:") and "invalid YAML" in msg


def test_tab_indentation_is_reported() -> None:
    (msg,) = problems("a:\n\tb: 1\n")
    assert "invalid YAML" in msg


def test_empty_file(tmp_path: Path) -> None:
    p = tmp_path / "empty.yaml"
    p.write_text("# only a comment\n")
    with pytest.raises(InputError, match="empty"):
        load_file(p, what="profile")


def test_directory_missing_and_binary(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="is a directory"):
        load_file(tmp_path)
    with pytest.raises(InputError, match="not found"):
        load_file(tmp_path / "nope.yaml")
    p = tmp_path / "bin.yaml"
    p.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(InputError, match="not UTF-8"):
        load_file(p)


def test_huge_file_is_refused_before_parsing(tmp_path: Path) -> None:
    p = tmp_path / "huge.yaml"
    p.write_text("a: " + "x" * (MAX_BYTES + 10) + "\n")
    with pytest.raises(InputError, match="larger than"):
        load_file(p)
