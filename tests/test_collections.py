"""Named collections: the registry, asking several as one, renames that keep their vectors, readers
that follow new generations, and indexes kept out of folders of documents (fake encoder: these test
the bookkeeping and the merge's arithmetic, not retrieval quality)."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from conftest import REPO, SEEDS, seed_folders

from qa import Bot, build_index
from qa.catalog import Catalog, CollectionError, CollectionState, UnindexedFolderError, default_name, info
from qa.cli import main
from qa.errors import IndexWriteError
from qa.index import load_index
from qa.query import Query
from qa.ranking import Retrievers
from qa.ranking.merged import rank_across

QUESTIONS = [json.loads(line) for line in (REPO / "benchmarks" / "seeds" / "questions.jsonl").read_text(encoding="utf-8").splitlines()]


@pytest.fixture
def halves(tmp_path) -> tuple[Path, Path]:
    """The seeds split into two folders: three press releases and two."""
    folders = seed_folders(tmp_path / "docs", {"first": slice(3), "second": slice(3, None)})
    return folders["first"], folders["second"]


@pytest.fixture
def two_collections(halves, fake_factory) -> Catalog:
    catalog = Catalog()
    for folder in halves:
        collection, created = catalog.register(folder)
        assert created
        build_index(collection.folder, collection.index_dir, encoder_factory=fake_factory)
    return catalog


def test_register_names_a_folder_once_and_keeps_its_index_in_the_data_directory(halves, tmp_path):
    catalog = Catalog()
    first, created = catalog.register(halves[0])
    assert created and first.name == "first" and first.folder == halves[0].resolve() and first.owned
    assert catalog.home.resolve() in first.index_dir.parents
    again, created = catalog.register(halves[0])  # the same folder, by its path: the same collection
    assert not created and again == first
    with pytest.raises(CollectionError, match="already the collection 'first'; rename it with: qa collections rename first other"):
        catalog.register(halves[0], name="other")
    with pytest.raises(CollectionError, match="holds another folder"):
        catalog.register(halves[1], name="first")
    with pytest.raises(CollectionError, match="reserved"):
        catalog.register(halves[1], name="all")
    with pytest.raises(CollectionError, match="invalid collection name 'a b'"):
        catalog.register(halves[1], name="a b")
    assert Catalog().names() == ("first",)  # written to the registry file
    assert default_name(Path("/x/My Notes (2024)")) == "My-Notes-2024"


def test_rename_keeps_the_index_and_remove_deletes_only_what_qa_placed(two_collections, halves, tmp_path, fake_factory):
    catalog = two_collections
    first = catalog.get("first")
    renamed = catalog.rename("first", "press")
    assert renamed.index_dir == first.index_dir and catalog.names() == ("press", "second")
    assert Bot.for_collections(["press"], encoder_factory=fake_factory).ask("Hammond", k=1).hits[0].collection == "press"
    with pytest.raises(CollectionError, match="exists already"):
        catalog.rename("press", "second")
    removed = catalog.remove("press")
    assert not removed.index_dir.exists() and halves[0].is_dir() and len(list(halves[0].iterdir())) == 3
    placed = tmp_path / "my-index"
    mine, _ = catalog.register(halves[0], name="mine", index_dir=placed)
    build_index(mine.folder, mine.index_dir, encoder_factory=fake_factory)
    catalog.remove("mine")
    assert (placed / "manifest.json").is_file()  # an index the user placed stays where it is
    with pytest.raises(CollectionError, match="no collection named 'press'; the collections are: second"):
        catalog.remove("press")


def test_the_cli_lists_renames_and_removes_collections(two_collections, capsys):
    first, second = (load_index(two_collections.get(name).index_dir).manifest.passage_count for name in ("first", "second"))
    assert main(["collections"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["NAME", "FOLDER", "DOCUMENTS", "PASSAGES", "UPDATED", "STORE"]
    assert lines[1].split()[0] == "first" and lines[1].split()[2:4] == ["3", str(first)] and lines[1].split()[-1] == "faiss"
    assert main(["collections", "rename", "first", "press"]) == 0
    assert capsys.readouterr().out == "Renamed collection first to press\n"
    assert main(["collections", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [(c["name"], c["documents"], c["passages"], c["state"]) for c in listed] == [("press", 3, first, "ready"), ("second", 2, second, "ready")]
    assert main(["collections", "remove", "nope"]) == 1
    assert capsys.readouterr().err == "error: no collection named 'nope'; the collections are: press, second\n"
    assert main(["collections", "remove", "press"]) == 0
    assert capsys.readouterr().out.startswith("Removed collection press (its index in ")


def test_two_collections_are_asked_together_or_separately_and_hits_name_theirs(two_collections, fake_factory):
    together = Bot.for_collections(["all"], encoder_factory=fake_factory)
    assert together.collections == ("first", "second")
    hits = together.search("Japan UK foreign ministers defence meeting security", k=20)
    assert {hit.collection for hit in hits} == {"first", "second"}
    firsts = {p.name for p in two_collections.get("first").folder.iterdir()}
    assert all((hit.passage.doc in firsts) == (hit.collection == "first") for hit in hits)
    alone = Bot.for_collections(["second"], encoder_factory=fake_factory).search("Japan UK foreign ministers defence meeting security", k=20)
    assert {hit.collection for hit in alone} == {"second"}
    # One bot, one question, a subset of its collections.
    assert {hit.collection for hit in together.search("Hammond Tokyo visit", k=10, collections=["second"])} == {"second"}
    answer = together.ask("Which companies will the Foreign Secretary visit in Japan?", k=3)
    record = answer.to_dict()
    assert all(passage["collection"] in ("first", "second") for passage in record["passages"])
    for hit in answer.hits:  # every citation holds in its own collection's folder
        source = (two_collections.get(hit.collection).folder / hit.passage.doc).read_text(encoding="utf-8")
        assert source[hit.passage.start : hit.passage.end] == hit.passage.text
        assert together.source_text(hit.passage.doc, hit.collection) == source
    with pytest.raises(Exception, match="not among those open"):
        together.search("Hammond", collections=["third"])


def test_an_index_opened_by_its_folder_gives_the_records_it_always_gave(corpus, index_dir, fake_factory):
    build_index(corpus, index_dir, encoder_factory=fake_factory)
    record = Bot(index_dir, encoder_factory=fake_factory).ask("Hammond", k=1).to_dict()
    assert list(record["passages"][0]) == ["rank", "score", "doc", "title", "date", "section", "start", "end", "text", "page"]


def test_asking_two_collections_ranks_as_one_index_over_both_folders(halves, tmp_path, fake_encoder, fake_factory):
    """The merged fused (and dense and BM25) ranking of two indexes is the ranking of one index built
    over both folders: the same passages in the same order, scores equal to float32 precision,
    except where two passages of a document tie exactly (float32 rounding picks one or the other)."""
    parts = []
    for folder in halves:
        build_index(folder, tmp_path / f"index-{folder.name}", encoder_factory=fake_factory)
        parts.append(Retrievers(load_index(tmp_path / f"index-{folder.name}"), fake_encoder))
    build_index(SEEDS, tmp_path / "one", encoder_factory=fake_factory)
    one = Retrievers(load_index(tmp_path / "one"), fake_encoder)
    for mode in ("fused", "dense", "bm25"):
        for item in QUESTIONS[::3]:
            query = Query.of(item["question"], item["history"])
            merged = [(parts[n].index.passage(pid), score) for n, pid, score in rank_across(parts, query, mode, 10)]
            single = [(one.index.passage(pid), score) for pid, score in one.get(mode).rank(query, 10)[:10]]
            assert len(merged) == len(single)
            for (mine, my_score), (theirs, their_score) in zip(merged, single, strict=True):
                assert my_score == pytest.approx(their_score, abs=2e-5), (mode, item["id"])
                if (mine.doc, mine.start) != (theirs.doc, theirs.start):
                    # Only two passages of one document that tie exactly may take each other's place.
                    assert mine.doc == theirs.doc, (mode, item["id"])


def test_a_renamed_or_moved_file_keeps_its_vectors(corpus, index_dir, fake_factory, fake_encoder):
    build_index(corpus, index_dir, encoder_factory=fake_factory)
    before = load_index(index_dir)
    doc = "003_cc08bda86b037607.txt"
    old_ids = before.ids[[row for row, p in enumerate(before.passages) if p.doc == doc]]
    old_vectors = before.store.vectors(old_ids).copy()
    embedded = fake_encoder.encoded
    (corpus / "moved").mkdir()
    (corpus / doc).rename(corpus / "moved" / "renamed.txt")
    report = build_index(corpus, index_dir, encoder_factory=fake_factory)
    assert fake_encoder.encoded == embedded and (report.files_renamed, report.passages_embedded) == (1, 0)
    after = load_index(index_dir)
    rows = [row for row, p in enumerate(after.passages) if p.doc == "moved/renamed.txt"]
    assert len(rows) == len(old_ids) and not any(p.doc == doc for p in after.passages)
    assert (after.store.vectors(after.ids[rows]) == old_vectors).all()
    source = (corpus / "moved" / "renamed.txt").read_text(encoding="utf-8")
    assert all(source[after.passages[r].start : after.passages[r].end] == after.passages[r].text for r in rows)
    # A file whose title is its name has other texts to embed under a new name: it is embedded again.
    (corpus / "note.txt").write_text("tea in Kyoto\n", encoding="utf-8")
    build_index(corpus, index_dir, encoder_factory=fake_factory)
    (corpus / "note.txt").rename(corpus / "other.txt")
    report = build_index(corpus, index_dir, encoder_factory=fake_factory)
    assert (report.files_renamed, report.files_embedded) == (0, 1)


def test_an_open_bot_moves_to_a_new_generation_without_a_restart(corpus, index_dir, fake_factory):
    build_index(corpus, index_dir, encoder_factory=fake_factory)
    bot = Bot(index_dir, encoder_factory=fake_factory, auto_update=False).load()
    assert bot.refresh() == ()
    assert "zeppelin" not in bot.ask("zeppelin harbour", k=1).hits[0].passage.text
    (corpus / "new.md").write_text("# Harbour\n\nA zeppelin moored over the harbour on Tuesday.\n", encoding="utf-8")
    build_index(corpus, index_dir, encoder_factory=fake_factory)
    assert "zeppelin" in bot.ask("zeppelin harbour", k=1).hits[0].passage.text  # moved at the question, no reload asked
    notices = []
    bot.notice = notices.append
    shutil.rmtree(index_dir)  # the index gone (its collection removed): the generation open keeps answering
    assert bot.ask("zeppelin harbour", k=1).hits and bot.ask("harbour", k=1).hits
    assert len(notices) == 1 and "answering from the one open" in notices[0]


def test_an_index_is_never_written_into_a_folder_of_documents(corpus, tmp_path, fake_factory):
    with pytest.raises(IndexWriteError, match="would be written into the documents folder"):
        build_index(corpus, corpus / "index", encoder_factory=fake_factory)
    with pytest.raises(IndexWriteError, match="would be written into the documents folder"):
        build_index(corpus, corpus, encoder_factory=fake_factory)
    documents = tmp_path / "mydocs"
    documents.mkdir()
    (documents / "letter.md").write_text("# Letter\n\nDear all.\n", encoding="utf-8")
    with pytest.raises(IndexWriteError, match="holds documents \\(letter.md\\), not an index"):
        build_index(corpus, documents, encoder_factory=fake_factory)  # the seeds' index among a user's documents
    assert sorted(p.name for p in documents.iterdir()) == ["letter.md"]
    with pytest.raises(CollectionError, match="into the documents folder"):
        Catalog().register(corpus, index_dir=corpus / "idx")
    assert Catalog().names() == ()


def test_reindexing_a_collection_with_no_index_yet_builds_it_from_its_own_folder(halves, fake_factory):
    collection, _ = Catalog().register(halves[1])  # registered, never built (a first build interrupted)
    bot = Bot(collections=[collection], encoder_factory=fake_factory)
    bot.reindex()
    assert Path(bot.manifest.corpus_root) == halves[1].resolve() and bot.summary().documents == 2  # not the seeds' 5


def test_choices_name_collections_all_of_them_or_their_folders(two_collections, halves, tmp_path):
    catalog = two_collections
    assert [c.name for c in catalog.resolve(["second", "all"])] == ["second", "first"]
    assert [c.name for c in catalog.resolve([str(halves[1])])] == ["second"]
    unindexed = tmp_path / "docs" / "third"
    unindexed.mkdir()
    with pytest.raises(UnindexedFolderError, match=f"{unindexed} is not indexed yet; index it with: qa index {unindexed}"):
        catalog.resolve([str(unindexed)])
    with pytest.raises(CollectionError, match="no collection named 'zz'; the collections are: first, second"):
        catalog.resolve(["zz"])
    assert info(catalog.get("first")).state is CollectionState.READY


def test_cli_index_registers_a_collection_and_refuses_clashes_in_one_line(halves, tmp_path, capsys):
    # Errors come before any model loads: a name held by another folder, an index among the documents.
    Catalog().register(halves[0], name="notes")
    assert main(["index", str(halves[1]), "--name", "notes", "-q"]) == 1
    assert capsys.readouterr().err == f"error: collection 'notes' holds another folder, {halves[0].resolve()}; choose another --name\n"
    assert main(["index", str(halves[1]), "--name", "x", "--index-dir", str(halves[1] / "idx"), "-q"]) == 1
    assert "into the documents folder" in capsys.readouterr().err
    assert Catalog().names() == ("notes",)
    assert main(["ask", "anything?", "-c", str(tmp_path)]) == 1  # not a terminal: the command that indexes it, no prompt
    assert capsys.readouterr().err == f"error: {tmp_path} is not indexed yet; index it with: qa index {tmp_path}\n"


def test_a_first_build_that_fails_leaves_no_collection(tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["index", str(empty), "-q"]) == 1
    assert "no supported documents" in capsys.readouterr().err and Catalog().names() == ()


def test_qa_chat_passes_the_collections_chosen_to_the_chat(two_collections, monkeypatch):
    import ui.app

    received = []

    def chat_of_collections(index_dir=None, model=None, collections=None, abstain_below=None):
        received.append((index_dir, collections))
        return 0

    monkeypatch.setattr(ui.app, "run_chat", chat_of_collections)
    assert main(["chat", "-c", "second", "-c", "first"]) == 0
    assert main(["chat", str(two_collections.get("second").folder)]) == 0
    assert main(["chat"]) == 0
    assert received == [(None, ("second", "first")), (None, ("second",)), (None, ("first", "second"))]


@pytest.mark.slow
def test_cli_indexes_asks_together_and_apart_and_offers_to_index_a_folder(halves, tmp_path, monkeypatch, capsys):
    """The real commands in process, with the real model."""
    assert main(["index", str(halves[0]), "-q"]) == 0
    assert capsys.readouterr().out.startswith(f"New collection first: {halves[0].resolve()} (index in ")
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    monkeypatch.setattr("sys.stderr.isatty", lambda: True)
    monkeypatch.setattr("builtins.input", lambda: "y")
    question = "Which companies will the Foreign Secretary visit in Japan?"
    assert main(["ask", question, "-c", str(halves[1]), "-c", "first", "--json", "-k", "3"]) == 0
    captured = capsys.readouterr()
    assert f"{halves[1]} is not indexed yet. Index it now as the collection 'second'? [Y/n]" in captured.err
    answer = json.loads(captured.out.splitlines()[-1])
    assert answer["passages"][0]["collection"] == "second" and answer["passages"][0]["doc"] == "003_cc08bda86b037607.txt"
    assert "Nissan" in answer["answer"]
    assert Catalog().names() == ("first", "second")
    assert main(["ask", question, "-c", "first", "--json", "-k", "3"]) == 0
    apart = json.loads(capsys.readouterr().out)
    assert {p["collection"] for p in apart["passages"]} == {"first"}
    assert main(["ask", question, "-k", "1"]) == 0  # every collection by default
    cited = re.search(r"\[second\] 003_cc08bda86b037607\.txt, characters (\d+)–(\d+)", capsys.readouterr().out)
    assert cited is not None  # the citation names its collection
    start, end = int(cited[1]), int(cited[2])
    assert "Nissan" in (halves[1] / "003_cc08bda86b037607.txt").read_text(encoding="utf-8")[start:end]
