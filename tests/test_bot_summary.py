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
