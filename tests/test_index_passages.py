"""The passages of an index, read from their file on demand."""

from __future__ import annotations

import json

import pytest

from qa.errors import IndexMismatchError
from qa.index.passages import PassageTable, any_dated
from qa.schema import Passage


def passage(n: int, date: str | None = None, text: str | None = None) -> Passage:
    text = text or f"Passage {n} says something."
    return Passage(doc=f"d{n}.txt", title=f"Title {n}", date=date, section=None, start=0, end=len(text), text=text)


def write(path, passages) -> None:
    path.write_text("".join(json.dumps(p.to_dict(), ensure_ascii=False) + "\n" for p in passages), encoding="utf-8")


def test_table_reads_back_every_passage_in_order(tmp_path):
    passages = [passage(1), passage(2, text='He said "date": "soon"\nand left. ünïcode \u2028 too'), passage(3)]
    write(tmp_path / "p.jsonl", passages)
    table = PassageTable(tmp_path / "p.jsonl")
    assert len(table) == 3
    assert table[1] == passages[1] and table[-1] == passages[2] and table[0:2] == passages[:2]
    assert list(table) == passages and table == passages
    with pytest.raises(IndexError):
        table[3]


def test_dated_is_told_from_the_date_field_only(tmp_path):
    undated = [passage(1, text='A quoted "date": "2023-01-01" in the text')]
    write(tmp_path / "u.jsonl", undated)
    assert not any_dated(PassageTable(tmp_path / "u.jsonl"))
    write(tmp_path / "d.jsonl", [*undated, passage(2, date="2023-11-07")])
    assert any_dated(PassageTable(tmp_path / "d.jsonl"))
    assert any_dated([passage(3, date="2020-01-01")]) and not any_dated([passage(4)])


def test_empty_file_is_an_empty_table(tmp_path):
    (tmp_path / "e.jsonl").write_bytes(b"")
    assert len(PassageTable(tmp_path / "e.jsonl")) == 0


def test_a_damaged_line_is_reported_as_a_damaged_index_when_read(tmp_path):
    write(tmp_path / "p.jsonl", [passage(1)])
    with (tmp_path / "p.jsonl").open("a", encoding="utf-8") as out:
        out.write('{"doc": "x.txt", "tit\n')
    table = PassageTable(tmp_path / "p.jsonl", damaged="damaged index in X; rebuild it")
    assert table[0] == passage(1)
    with pytest.raises(IndexMismatchError, match="damaged index in X; rebuild it .passage 2 unreadable"):
        table[1]
