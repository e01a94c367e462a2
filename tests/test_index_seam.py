"""The index package on its own: the writer's generations, the lock and the atomic switch, and the
reader's checks, over an in-memory store registered for these tests. Nothing here needs FAISS or
Milvus: the index speaks to its store only through the protocol (qa.stores.base)."""

from __future__ import annotations

import numpy as np
import pytest

from qa.errors import IndexMismatchError, IndexWriteError
from qa.index import MANIFEST, IndexDirectory, load_index, read_manifest
from qa.schema import Passage
from qa.stores import STORES, StoreRecord, StoreTarget, VectorSet

SAVED: dict[str, dict] = {}  # generation -> what MemoryStore.save kept


class MemoryStore:
    """The smallest VectorStore: arrays in a dict, generations kept in SAVED."""

    kind = "memory"

    def __init__(self, dimension: int, rows: dict | None = None) -> None:
        self.dimension = dimension
        self.rows: dict[int, tuple[str, np.ndarray, np.ndarray]] = dict(rows or {})  # id -> (doc, vector, sentence vectors)

    @classmethod
    def parse(cls, spec):
        return StoreTarget(cls.kind) if spec == cls.kind else None

    @classmethod
    def create(cls, target, dimension, policy, workdir, model):
        return cls(dimension)

    @classmethod
    def load(cls, directory, record, policy, workdir):
        return cls(int(record.params["dimension"]), SAVED[record.params["generation"]])

    @classmethod
    def holds(cls, target, record):
        return True

    def add(self, passages, ids, vectors, sentence_vectors, sentence_counts):
        bounds = np.cumsum([0, *sentence_counts])
        for row, (passage, pid) in enumerate(zip(passages, ids, strict=True)):
            self.rows[int(pid)] = (passage.doc, vectors[row], sentence_vectors[bounds[row] : bounds[row + 1]])

    def delete_documents(self, docs):
        gone = [pid for pid, (doc, _, _) in self.rows.items() if doc in docs]
        for pid in gone:
            del self.rows[pid]
        return len(gone)

    def search(self, queries, k, target=VectorSet.PASSAGES):
        raise NotImplementedError

    def vectors(self, ids):
        return np.stack([self.rows[int(pid)][1] for pid in ids])

    def sentence_vectors(self, ids):
        groups = [self.rows[int(pid)][2] for pid in ids]
        return np.concatenate(groups), np.repeat(np.arange(len(ids)), [len(g) for g in groups])

    def ids(self):
        return np.array(sorted(self.rows), dtype=np.int64)

    def count(self, target=VectorSet.PASSAGES):
        return len(self.rows) if target is VectorSet.PASSAGES else sum(len(s) for _, _, s in self.rows.values())

    def save(self, directory, generation):
        SAVED[generation] = dict(self.rows)
        return StoreRecord(kind=self.kind, params={"dimension": self.dimension, "generation": generation})

    def discard(self):
        pass

    def validate(self, passage_count):
        if len(self.rows) != passage_count:
            raise ValueError(f"{len(self.rows)} passages, expected {passage_count}")


@pytest.fixture(autouse=True)
def memory_store(monkeypatch):
    monkeypatch.setitem(STORES, MemoryStore.kind, MemoryStore)


def passages(doc: str, count: int) -> list[Passage]:
    return [Passage(doc=doc, title=doc, date=None, section=None, start=10 * i, end=10 * i + 5, text=f"{doc}-{i}") for i in range(count)]


def add(writer, doc: str, count: int) -> np.ndarray:
    vectors = np.eye(4, dtype=np.float32)[np.arange(count) % 4]
    return writer.add(passages(doc, count), vectors, vectors, [1] * count)


def commit(writer, files=None):
    return writer.commit(dict(model="test", dimension=4, splitter_version="test", corpus_root="/corpus", files=files or {}))


def first_generation(tmp_path):
    with IndexDirectory(tmp_path).lock() as directory:
        writer = directory.begin(4, store=StoreTarget(MemoryStore.kind), model="test")
        add(writer, "a.txt", 3)
        add(writer, "b.txt", 2)
        return commit(writer)


def test_a_committed_generation_becomes_current_in_one_step_and_a_reader_opens_it(tmp_path):
    manifest = first_generation(tmp_path)
    index = load_index(tmp_path)
    assert index.manifest == manifest == read_manifest(tmp_path)
    assert [p.text for p in index.passages] == ["a.txt-0", "a.txt-1", "a.txt-2", "b.txt-0", "b.txt-1"]
    assert list(index.ids) == [0, 1, 2, 3, 4] and index.passage(3).doc == "b.txt"
    assert set(manifest.checksums) == {manifest.passages_file, *manifest.lexicon.values()}


def test_the_next_generation_keeps_ids_drops_removed_documents_and_shows_nothing_before_its_commit(tmp_path):
    first = first_generation(tmp_path)
    with IndexDirectory(tmp_path).lock() as directory:
        writer = directory.begin(4, base=directory.current(), model="test")
        writer.remove_documents(["a.txt"])
        new_ids = add(writer, "c.txt", 2)
        assert load_index(tmp_path).manifest == first  # readers still see the first generation
        second = commit(writer)
    index = load_index(tmp_path)
    assert list(new_ids) == [5, 6] and second.next_id == 7  # ids are never reused
    assert list(index.ids) == [3, 4, 5, 6] and [p.doc for p in index.passages] == ["b.txt", "b.txt", "c.txt", "c.txt"]
    assert not (tmp_path / first.passages_file).exists()  # the first generation's files are gone


def test_an_aborted_generation_leaves_the_current_one_and_no_files_of_its_own(tmp_path):
    first = first_generation(tmp_path)
    before = set(tmp_path.iterdir())
    with IndexDirectory(tmp_path).lock() as directory:
        writer = directory.begin(4, base=directory.current(), model="test")
        add(writer, "c.txt", 2)
        writer.abort()
    assert load_index(tmp_path).manifest == first and set(tmp_path.iterdir()) == before


def test_a_second_writer_is_refused_while_the_first_holds_the_lock(tmp_path):
    notices = []
    second = IndexDirectory(tmp_path).lock(timeout=0.1, notice=notices.append)
    with IndexDirectory(tmp_path).lock(), pytest.raises(IndexWriteError, match="another qa index is writing"), second:
        pass
    assert notices and "waiting up to 0.1 s" in notices[0]


def test_a_reader_refuses_a_file_that_no_longer_matches_its_checksum_and_names_the_fix(tmp_path):
    manifest = first_generation(tmp_path)
    (tmp_path / manifest.passages_file).write_text("{}\n", encoding="utf-8")
    with pytest.raises(IndexMismatchError, match="does not match its checksum.*rebuild it with: qa index /corpus"):
        load_index(tmp_path)
    assert IndexDirectory(tmp_path).current() is None  # a build starts again from scratch


def test_a_manifest_is_replaced_whole_and_leftovers_of_a_killed_build_are_removed(tmp_path):
    first_generation(tmp_path)
    (tmp_path / "passages-dead.new").write_text("half", encoding="utf-8")
    (tmp_path / f".{MANIFEST}.dead.tmp").write_text("{", encoding="utf-8")
    (tmp_path / "notes.txt").write_text("the user's own file", encoding="utf-8")
    first_generation(tmp_path)
    names = {path.name for path in tmp_path.iterdir()}
    assert "passages-dead.new" not in names and f".{MANIFEST}.dead.tmp" not in names and "notes.txt" in names
