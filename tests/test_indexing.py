"""Building, updating and protecting the index (fake encoder: these test bookkeeping, not quality)."""

import json
import os

import numpy as np
import pytest

from qa import Bot, build_index
from qa.errors import (
    CorpusError,
    IndexMismatchError,
    IndexMissingError,
    IndexWriteError,
)
from qa.index import FORMAT_VERSION, load_index, read_manifest
from qa.sentences import sentence_texts
from qa.stores import VectorSet


def build(corpus, index_dir, factory, **kwargs):
    return build_index(corpus, index_dir, encoder_factory=factory, **kwargs)


def test_build_writes_vectors_passages_and_manifest(corpus, index_dir, fake_factory):
    report = build(corpus, index_dir, fake_factory)
    manifest = read_manifest(index_dir)
    assert report.files == 5 and report.passages == manifest.passage_count == 49
    assert manifest.model == "all-MiniLM-L6-v2" and manifest.dimension == 64
    assert set(manifest.files) == {p.name for p in corpus.glob("*.txt")}
    assert all(len(record.sha256) == 64 for record in manifest.files.values())
    index = load_index(index_dir)
    assert index.store.count() == len(index.passages) == 49
    source = (corpus / index.passages[10].doc).read_text(encoding="utf-8")
    assert source[index.passages[10].start : index.passages[10].end] == index.passages[10].text


def test_every_passage_keeps_its_own_sentence_vectors_across_an_incremental_build(corpus, index_dir, fake_factory, fake_encoder):
    build(corpus, index_dir, fake_factory)
    path = next(corpus.glob("002_*.txt"))
    path.write_text("A new first paragraph about tea. It has two sentences.\n\n" + path.read_text(encoding="utf-8"), encoding="utf-8")
    build(corpus, index_dir, fake_factory)
    index = load_index(index_dir)
    manifest = read_manifest(index_dir)
    assert manifest.format_version == FORMAT_VERSION and manifest.sentence_count == index.store.count(VectorSet.SENTENCES) > len(index.passages)
    for passage_id, passage in zip(index.ids, index.passages, strict=True):
        expected = fake_encoder.encode(sentence_texts(passage.title, passage.text))
        stored, _ = index.store.sentence_vectors([passage_id])
        np.testing.assert_allclose(stored, expected, atol=1e-6)
        np.testing.assert_allclose(index.store.vectors([passage_id])[0], fake_encoder.encode([passage.embedding_text()])[0], atol=1e-6)


def test_reindex_with_no_change_embeds_nothing(corpus, index_dir, fake_factory, fake_encoder):
    build(corpus, index_dir, fake_factory)
    embedded_first = fake_encoder.encoded
    report = build(corpus, index_dir, fake_factory)
    assert fake_encoder.encoded == embedded_first
    assert (report.changed, report.passages_embedded, report.files_reused) == (False, 0, 5)


def test_touched_but_identical_file_is_not_embedded_again(corpus, index_dir, fake_factory, fake_encoder):
    build(corpus, index_dir, fake_factory)
    before = fake_encoder.encoded
    path = next(corpus.glob("000_*.txt"))
    os.utime(path, ns=(1, 1))
    report = build(corpus, index_dir, fake_factory)
    assert fake_encoder.encoded == before and report.passages_embedded == 0
    assert read_manifest(index_dir).files[path.name].mtime_ns == 1


def test_only_the_changed_file_is_embedded_again(corpus, index_dir, fake_factory, fake_encoder):
    build(corpus, index_dir, fake_factory)
    path = next(corpus.glob("004_*.txt"))
    path.write_text(path.read_text(encoding="utf-8") + "\n\nA new closing paragraph about tea exports to Japan.\n", encoding="utf-8")
    before = fake_encoder.encoded
    report = build(corpus, index_dir, fake_factory)
    assert report.files_embedded == 1 and report.files_reused == 4
    index = load_index(index_dir)
    changed = [pid for pid, passage in zip(index.ids, index.passages, strict=True) if passage.doc == path.name]
    assert report.passages_embedded == len(changed) == 5
    texts = {text for pid in changed for text in (index.passage(pid).embedding_text(), *sentence_texts(index.passage(pid).title, index.passage(pid).text))}
    assert fake_encoder.encoded - before == len(texts)  # each distinct passage or sentence text, once
    assert any("tea exports" in p.text for p in index.passages)
    assert len(index.passages) == 50


def test_deleted_and_added_files_are_reflected(corpus, index_dir, fake_factory):
    build(corpus, index_dir, fake_factory)
    next(corpus.glob("003_*.txt")).unlink()
    (corpus / "sub").mkdir()
    (corpus / "sub" / "note.md").write_text("# Note\n\nKyoto hosted a tea ceremony for the delegation.\n", encoding="utf-8")
    build(corpus, index_dir, fake_factory)
    docs = {p.doc for p in load_index(index_dir).passages}
    assert "sub/note.md" in docs and not any(d.startswith("003_") for d in docs)


def test_binary_and_non_utf8_files_are_skipped_with_a_warning(corpus, index_dir, fake_factory):
    (corpus / "image.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    (corpus / "latin1.txt").write_bytes("Caf\xe9 au lait, na\xefve r\xe9sum\xe9.".encode("latin-1"))
    report = build(corpus, index_dir, fake_factory)
    assert report.files == 5
    assert any(w.startswith("image.txt: skipped, binary file") for w in report.warnings)
    assert any(w.startswith("latin1.txt: skipped, not UTF-8") for w in report.warnings)
    assert all("\n" not in w for w in report.warnings)


def test_missing_corpus_folder_is_an_error(tmp_path, index_dir, fake_factory):
    with pytest.raises(CorpusError, match="corpus folder not found"):
        build(tmp_path / "nope", index_dir, fake_factory)


def test_empty_corpus_folder_is_an_error_and_keeps_the_old_index(corpus, tmp_path, index_dir, fake_factory):
    build(corpus, index_dir, fake_factory)
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "ignored.odt").write_bytes(b"PK")  # not a supported format
    with pytest.raises(CorpusError, match="no supported documents"):
        build(empty, index_dir, fake_factory)
    blank = tmp_path / "blank"
    blank.mkdir()
    (blank / "blank.txt").write_text("   \n\n", encoding="utf-8")
    with pytest.raises(CorpusError, match="no indexable text"):
        build(blank, index_dir, fake_factory)
    assert len(load_index(index_dir).passages) == 49


def test_unwritable_index_directory_is_an_error(corpus, tmp_path, fake_factory):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    with pytest.raises(IndexWriteError, match="cannot write to index directory"):
        build(corpus, blocker / "index", fake_factory)


def test_interrupted_build_leaves_the_previous_index_usable(corpus, index_dir, fake_factory, fake_encoder):
    build(corpus, index_dir, fake_factory)
    before = load_index(index_dir)
    for path in corpus.glob("*.txt"):
        path.write_text(path.read_text(encoding="utf-8") + "\n\nAppended paragraph that changes the file.\n", encoding="utf-8")

    def dying_factory(spec):
        class Dying:
            name, dimension = fake_encoder.name, fake_encoder.dimension

            def encode(self, texts, batch_size=32):
                raise KeyboardInterrupt

        return Dying()

    with pytest.raises(KeyboardInterrupt):
        build(corpus, index_dir, dying_factory, batch_size=4)
    after = load_index(index_dir)
    assert after.passages == before.passages and after.manifest == before.manifest
    leftovers = {p.name for p in index_dir.iterdir()} - {"manifest.json", ".lock", after.manifest.passages_file, *after.manifest.store.files.values(),
        *after.manifest.lexicon.values()}
    assert leftovers == set()


def test_leftovers_of_a_killed_build_are_cleaned_by_the_next_build(corpus, index_dir, fake_factory):
    build(corpus, index_dir, fake_factory)
    (index_dir / "passages-deadbeef.jsonl").write_text("{}\n")
    (index_dir / "vectors-deadbeef.faiss").write_bytes(b"partial")
    (corpus / "new.txt").write_text("A new document about the Rugby World Cup in Japan.\n", encoding="utf-8")
    build(corpus, index_dir, fake_factory)
    assert not (index_dir / "passages-deadbeef.jsonl").exists() and not (index_dir / "vectors-deadbeef.faiss").exists()


def test_index_built_with_another_model_is_refused_with_the_command_to_fix_it(corpus, index_dir, fake_factory):
    build(corpus, index_dir, fake_factory)
    other = index_dir.parent / "other-model"
    other.mkdir()
    (other / "modules.json").write_text("[]")
    with pytest.raises(IndexMismatchError, match=r"built with model all-MiniLM-L6-v2.*qa index .* --model"):
        Bot(index_dir, model=str(other), encoder_factory=fake_factory).load()


def test_index_with_another_dimension_than_its_model_is_refused(corpus, index_dir, fake_factory):
    build(corpus, index_dir, fake_factory)

    class Wider:
        name, dimension = "all-MiniLM-L6-v2", 384

    with pytest.raises(IndexMismatchError, match="384-dimensional"):
        Bot(index_dir, encoder_factory=lambda spec: Wider()).load()


def test_truncated_vectors_file_is_reported_as_damaged(corpus, index_dir, fake_factory):
    build(corpus, index_dir, fake_factory)
    vectors = index_dir / read_manifest(index_dir).store.files["passage_vectors"]
    vectors.write_bytes(vectors.read_bytes()[:100])
    with pytest.raises(IndexMismatchError, match="damaged index.*qa index"):
        load_index(index_dir)


def test_passages_that_do_not_match_the_vectors_are_reported(corpus, index_dir, fake_factory):
    build(corpus, index_dir, fake_factory)
    passages = index_dir / read_manifest(index_dir).passages_file
    passages.write_text("".join(passages.read_text(encoding="utf-8").splitlines(keepends=True)[:-1]), encoding="utf-8")
    with pytest.raises(IndexMismatchError, match=r"damaged index .*passages-\w+\.jsonl does not match its checksum.*qa index"):
        load_index(index_dir)


@pytest.mark.parametrize("damage", ["truncate vectors", "flip a vector byte", "drop a passage", "delete vectors"])
def test_a_damaged_index_is_caught_by_its_checksums_and_qa_index_repairs_it(corpus, index_dir, fake_factory, damage):
    build(corpus, index_dir, fake_factory)
    manifest = read_manifest(index_dir)
    vectors, passages = index_dir / manifest.store.files["passage_vectors"], index_dir / manifest.passages_file
    if damage == "truncate vectors":
        vectors.write_bytes(vectors.read_bytes()[:-64])
    elif damage == "flip a vector byte":
        data = bytearray(vectors.read_bytes())
        data[len(data) // 2] ^= 0x01  # still a readable vectors file: only the checksum can tell
        vectors.write_bytes(bytes(data))
    elif damage == "drop a passage":
        passages.write_text("".join(passages.read_text(encoding="utf-8").splitlines(keepends=True)[1:]), encoding="utf-8")
    else:
        vectors.unlink()
    with pytest.raises(IndexMismatchError) as caught:
        Bot(index_dir, encoder_factory=fake_factory).load()
    message = str(caught.value)
    assert "\n" not in message and message.startswith(f"damaged index in {index_dir}")
    assert message.endswith(f"rebuild it with: qa index {corpus.resolve()} --index-dir {index_dir}")
    report = build(corpus, index_dir, fake_factory)  # the command the message gives
    assert report.changed and report.passages == 49
    assert len(Bot(index_dir, encoder_factory=fake_factory).load().index.passages) == 49


def test_missing_index_says_how_to_build_one(index_dir, fake_factory):
    with pytest.raises(IndexMissingError, match="qa index CORPUS_DIR"):
        Bot(index_dir, encoder_factory=fake_factory).load()


def test_stale_index_is_updated_on_load_with_a_notice(corpus, index_dir, fake_factory):
    build(corpus, index_dir, fake_factory)
    (corpus / "late.txt").write_text("A late document about the Japan-UK semiconductor partnership.\n", encoding="utf-8")
    notices = []
    bot = Bot(index_dir, encoder_factory=fake_factory, notice=notices.append).load()
    assert len(notices) == 1 and "late.txt" in notices[0] and "updating" in notices[0]
    assert any(p.doc == "late.txt" for p in bot.index.passages)


def test_an_update_on_load_reports_its_progress_as_a_reindex_does(corpus, index_dir, fake_factory):
    build(corpus, index_dir, fake_factory)
    (corpus / "late.txt").write_text("A late document about the Japan-UK semiconductor partnership.\n", encoding="utf-8")
    reports: list[tuple[int, int]] = []
    Bot(index_dir, encoder_factory=fake_factory).load(progress=lambda done, total: reports.append((done, total)))
    assert reports and reports[-1][0] == reports[-1][1] > 0
    reports.clear()
    Bot(index_dir, encoder_factory=fake_factory).load(progress=lambda done, total: reports.append((done, total)))
    assert reports == []  # up to date: nothing to report


def test_manifest_is_json_and_nothing_is_pickled(corpus, index_dir, fake_factory):
    build(corpus, index_dir, fake_factory)
    json.loads((index_dir / "manifest.json").read_text())
    for line in (index_dir / read_manifest(index_dir).passages_file).read_text(encoding="utf-8").splitlines():
        assert set(json.loads(line)) == {"doc", "title", "date", "section", "start", "end", "text", "page"}
    assert not list(index_dir.glob("*.pkl")) and not list(index_dir.glob("*.pickle"))


def test_reindex_rebuilds_an_index_whose_manifest_is_damaged(corpus, index_dir, fake_factory):
    build(corpus, index_dir, fake_factory)
    (index_dir / "manifest.json").write_text("{not json")
    bot = Bot(index_dir, encoder_factory=fake_factory)
    report = bot.reindex(corpus_dir=corpus)
    assert report.changed and report.passages == 49
    assert len(load_index(index_dir).passages) == 49


def test_a_stale_index_being_written_by_another_build_is_used_as_it_is(corpus, index_dir, fake_factory):
    """A question asked while another build holds the lock is answered at once from the complete index."""
    from qa.index import IndexDirectory

    build(corpus, index_dir, fake_factory)
    (corpus / "late.txt").write_text("A late document about harbour boats.\n", encoding="utf-8")
    notices = []
    with IndexDirectory(index_dir).lock():
        bot = Bot(index_dir, encoder_factory=fake_factory, notice=notices.append).load()
    assert len(notices) == 2 and "another qa index is writing" in notices[1]
    assert "answering from the index as it is" in notices[1]
    assert len(bot.index.passages) == 49


def test_bm25_and_idf_saved_by_the_build_score_exactly_as_when_built_in_memory(corpus, index_dir, fake_factory):
    from qa import lexicon
    from qa.query import Query
    from qa.ranking import BM25Retriever
    from qa.text import inverse_document_frequencies

    build(corpus, index_dir, fake_factory)
    (corpus / "late.txt").write_text("A late document about harbour boats and tea.\n", encoding="utf-8")
    build(corpus, index_dir, fake_factory)  # incremental: the saved statistics cover the new passages too
    index = load_index(index_dir)
    assert {"bm25-data", "bm25-vocab", "idf"} <= set(index.manifest.lexicon)
    loaded = BM25Retriever(index)
    fresh = lexicon.build_bm25([p.embedding_text() for p in index.passages])
    for question in ("harbour boats", "Who met the Prime Minister in London?", "semiconductor supply chains", "the boats of zzzz"):
        tokens = lexicon.tokenize([question], return_ids=False)[0]
        np.testing.assert_array_equal(loaded.scores(Query(question)), fresh.get_scores(tokens))
    assert loaded.scores(Query("harbour boats")).max() > 0
    assert lexicon.load_idf(index.directory, index.manifest.lexicon) == inverse_document_frequencies([p.text for p in index.passages])


def test_large_files_are_checked_by_size_on_load_and_hashed_by_every_build(corpus, index_dir, fake_factory, fake_encoder, monkeypatch):
    from qa.index import reader

    build(corpus, index_dir, fake_factory)
    monkeypatch.setattr(reader, "HASH_ON_LOAD_BYTES", 0)  # every file counts as large
    vectors = index_dir / read_manifest(index_dir).store.files["passage_vectors"]
    data = bytearray(vectors.read_bytes())
    data[-1] ^= 0x01
    vectors.write_bytes(bytes(data))
    load_index(index_dir)  # same size: a reader does not hash it
    before = fake_encoder.encoded
    report = build(corpus, index_dir, fake_factory)
    assert report.changed and fake_encoder.encoded - before >= 49  # the build hashed it and rebuilt
    vectors = index_dir / read_manifest(index_dir).store.files["passage_vectors"]
    vectors.write_bytes(vectors.read_bytes()[:-4])
    with pytest.raises(IndexMismatchError, match="does not match its checksum"):
        load_index(index_dir)


def test_each_distinct_text_is_encoded_once_and_every_row_gets_its_own_vector(fake_encoder):
    from qa.index import encode_passages
    from qa.schema import Passage

    seen: list[str] = []

    class Counting(type(fake_encoder)):  # type: ignore[misc]
        def encode(self, texts, batch_size=32):
            seen.extend(texts)
            return super().encode(texts, batch_size)

    one = Passage(doc="a.txt", title="Note", date=None, section=None, start=0, end=19, text="A single sentence.")
    two = Passage(doc="b.txt", title="Note", date=None, section=None, start=0, end=42, text="First sentence here. Second sentence there.")
    passages, sentences, counts = encode_passages(Counting(), [one, two, one], batch_size=8)

    assert len(seen) == len(set(seen))  # the one-sentence passage's sentence is its passage text
    assert counts == [1, 2, 1]
    assert passages.shape[0] == 3 and sentences.shape[0] == 4
    expected = fake_encoder.encode([one.embedding_text(), two.embedding_text()] + sentence_texts(two.title, two.text))
    assert np.allclose(passages[[0, 1, 2]], expected[[0, 1, 0]])
    assert np.allclose(sentences, expected[[0, 2, 3, 0]])


def test_the_change_check_names_added_removed_and_edited_files_and_not_touched_ones(corpus, index_dir, fake_factory):
    from qa.index import stale_files

    build(corpus, index_dir, fake_factory)
    manifest = read_manifest(index_dir)
    touched, edited, removed = sorted(corpus.glob("*.txt"))[:3]
    os.utime(touched, ns=(1, 1))  # same bytes, new time: not a change
    edited.write_text(edited.read_text(encoding="utf-8") + "\nOne more line.\n", encoding="utf-8")
    removed.unlink()
    (corpus / "sub").mkdir()
    (corpus / "sub" / "new.md").write_text("# New\n\nA new note.\n", encoding="utf-8")
    (corpus / ".hidden.txt").write_text("hidden", encoding="utf-8")  # neither is a document of the corpus
    (corpus / "image.xyz").write_text("not a document", encoding="utf-8")
    assert stale_files(manifest) == sorted([edited.name, removed.name, "sub/new.md"])


def test_the_file_table_is_stored_as_columns_and_an_index_that_stored_records_still_loads(corpus, index_dir, fake_factory):
    from qa.index import Manifest
    from qa.index.file_table import FileRecord, FileTable

    build(corpus, index_dir, fake_factory)
    manifest = read_manifest(index_dir)
    stored = json.loads((index_dir / "manifest.json").read_text(encoding="utf-8"))
    assert set(stored["files"]) == {"doc", "sha256", "size", "mtime_ns", "passages", "skipped"}
    assert isinstance(manifest.files, FileTable) and Manifest.from_json(manifest.to_json()) == manifest
    first = stored["files"]["doc"][0]
    assert manifest.files[first] == FileRecord(*(stored["files"][column][0] for column in ("sha256", "size", "mtime_ns", "passages", "skipped")))
    assert manifest.files[first].size == (corpus / first).stat().st_size
    # The layout of earlier versions: one object per file.
    stored["files"] = {doc: {"sha256": manifest.files[doc].sha256, "size": manifest.files[doc].size, "mtime_ns": manifest.files[doc].mtime_ns,
                             "passages": manifest.files[doc].passages, "skipped": None} for doc in manifest.files}
    (index_dir / "manifest.json").write_text(json.dumps(stored), encoding="utf-8")
    notices = []
    bot = Bot(index_dir, encoder_factory=fake_factory, notice=notices.append).load()
    assert notices == [] and bot.manifest == manifest and len(bot.index.passages) == 49


def test_a_damaged_index_of_a_changed_corpus_is_rebuilt_on_load(corpus, index_dir, fake_factory):
    build(corpus, index_dir, fake_factory)
    vectors = index_dir / read_manifest(index_dir).store.files["passage_vectors"]
    vectors.write_bytes(vectors.read_bytes()[:100])
    (corpus / "late.txt").write_text("A late document about the Japan-UK semiconductor partnership.\n", encoding="utf-8")
    notices = []
    bot = Bot(index_dir, encoder_factory=fake_factory, notice=notices.append).load()
    assert len(notices) == 1 and "late.txt" in notices[0]
    assert any(p.doc == "late.txt" for p in bot.index.passages)


def test_the_default_index_folder_of_a_fresh_checkout_takes_an_index(corpus, tmp_path, fake_factory):
    """embeddings/ as the repository holds it (its tracked files only) is an index folder, not a
    folder of documents, so `qa index` and the chat's Ctrl+R can build the default index there."""
    import shutil
    import subprocess

    from conftest import REPO

    tracked = subprocess.run(["git", "ls-files", "embeddings"], cwd=REPO, capture_output=True, text=True, check=True).stdout.split()
    assert tracked  # the folder exists in a fresh clone
    target = tmp_path / "checkout"
    for name in tracked:
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(REPO / name, target / name)
    report = build(corpus, target / "embeddings", fake_factory)
    assert report.changed and read_manifest(target / "embeddings").passage_count == report.passages
