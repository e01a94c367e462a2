"""Bot.summary(): the counts the chat's header shows agree with what `qa index` reports."""

from __future__ import annotations

from qa import Bot, build_index


def test_summary_counts_indexed_documents_and_skipped_files_as_the_build_reports(tmp_path, fake_factory):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_text("Alpha report\n\nThe alpha team met on Monday to plan the launch.\n", encoding="utf-8")
    (corpus / "b.md").write_text("# Beta\n\nThe beta team reviewed the budget on Tuesday.\n", encoding="utf-8")
    (corpus / "c.txt").write_bytes(b"\x00\x01\x02binary\xff\xfe" * 50)
    report = build_index(corpus, tmp_path / "index", encoder_factory=fake_factory)
    summary = Bot(tmp_path / "index", encoder_factory=fake_factory).load().summary()
    assert (summary.documents, summary.skipped) == (2, 1)
    assert summary.documents == report.files and summary.passages == report.passages
    assert summary.corpus_root == str(corpus.resolve())
    assert Bot(tmp_path / "index", encoder_factory=fake_factory).load().skipped_files() == report.skipped
    assert len(report.skipped) == 1 and "c.txt" in report.skipped[0]


def test_summary_says_when_the_corpus_folder_is_gone_and_the_index_still_answers(tmp_path, fake_factory):
    import shutil

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_text("Alpha report\n\nThe alpha team met on Monday to plan the launch.\n", encoding="utf-8")
    build_index(corpus, tmp_path / "index", encoder_factory=fake_factory)
    assert Bot(tmp_path / "index", encoder_factory=fake_factory).load().summary().corpus_found
    shutil.rmtree(corpus)
    bot = Bot(tmp_path / "index", encoder_factory=fake_factory).load()
    assert not bot.summary().corpus_found
    assert bot.ask("When did the alpha team meet?").hits
