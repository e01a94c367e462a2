"""The chat's session without Textual: plain calls, jobs run by hand, events collected in a list."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from fake_bot import FakeBot

from qa import AnswerPolicy, Bot, QAError, build_index
from qa.catalog import info
from ui.conversations import ConversationStore
from ui.events import (
    ActivityChanged,
    Answered,
    AppState,
    ConversationOpened,
    Event,
    FolderWanted,
    IndexingStarted,
    IndexUpdated,
    Loaded,
    LoadFailed,
    Notice,
    OptionsChanged,
    QueueChanged,
    Reloading,
    Searching,
    Severity,
    Switching,
    TranscriptCleared,
)
from ui.session import ChatSession, shown_path, threshold_of

LONDON_Q = "Who did they meet in London?"


class ManualRunner:
    """Keeps each background job until the test runs it; callbacks run at once (one thread here)."""

    def __init__(self) -> None:
        self.jobs: list[tuple[str, Callable[[], None]]] = []

    def background(self, job: Callable[[], None], group: str) -> None:
        self.jobs.append((group, job))

    def to_main(self, callback: Callable[[], None]) -> None:
        callback()

    def run(self, group: str) -> None:
        """Run the oldest job of group (it must be there)."""
        index = next(i for i, (g, _) in enumerate(self.jobs) if g == group)
        _, job = self.jobs.pop(index)
        job()

    def groups(self) -> list[str]:
        return [group for group, _ in self.jobs]


class Chat:
    """A session, its runner and every event it reported."""

    def __init__(self, data_dir: Path, bot: FakeBot | Bot | None = None, **options) -> None:
        self.bot = bot or FakeBot()
        self.runner = ManualRunner()
        self.events: list[Event] = []
        self.session = ChatSession(self.bot, runner=self.runner, data_dir=data_dir, **options)
        self.session.listen(self.events.append)

    def of(self, kind: type) -> list:
        return [event for event in self.events if isinstance(event, kind)]

    def notices(self) -> list[str]:
        return [event.message for event in self.of(Notice)]

    def statuses(self) -> dict[int, str]:
        """What each waiting question waits for, as last reported."""
        return dict(self.of(QueueChanged)[-1].statuses)

    def loaded(self) -> Chat:
        self.session.load()
        self.runner.run("bot")
        return self

    def answer_all(self) -> None:
        while "ask" in self.runner.groups():
            self.runner.run("ask")


@pytest.fixture
def data_dir(tmp_path) -> Path:
    return tmp_path / "data"


def test_questions_asked_while_loading_wait_and_are_answered_in_order(data_dir):
    chat = Chat(data_dir)
    session = chat.session
    first = session.ask(LONDON_Q)
    second = session.ask("and who attended?")
    third = session.ask("when was it?")
    assert session.state is AppState.LOADING and chat.bot.calls == []
    assert set(chat.statuses().values()) == {"Waiting for the model and the index to load…"}
    assert second.history == (LONDON_Q,) and third.history == (LONDON_Q, "and who attended?")

    chat.loaded()
    assert session.state is AppState.READY and chat.of(Loaded)
    assert chat.of(Searching)[0].question_id == first.id
    assert chat.statuses() == {second.id: "Queued: 1 question before this one…",
                               third.id: "Queued: 2 questions before this one…"}
    assert chat.runner.groups() == ["ask"]  # one question at a time

    chat.answer_all()
    assert [event.question_id for event in chat.of(Answered)] == [first.id, second.id, third.id]
    assert [call[0] for call in chat.bot.calls] == [LONDON_Q, "and who attended?", "when was it?"]
    assert chat.bot.calls[1][1] == (LONDON_Q,)
    assert [turn.question for turn in session.turns] == [LONDON_Q, "and who attended?", "when was it?"]
    assert session.turns[0].answer is not None and not session.turns[0].answer.abstained


def test_an_empty_submission_is_not_asked_and_a_question_is_remembered_for_recall(data_dir):
    chat = Chat(data_dir).loaded()
    assert chat.session.submit("   ") is None
    assert chat.session.submit("why " * 600) is None and chat.bot.calls == []
    assert chat.notices()[-1].startswith("The question is too long: 2,399 characters (limit 2,000)")
    assert chat.session.submit(f"  {LONDON_Q} ") is not None
    assert chat.session.history.entries == [LONDON_Q]
    assert (data_dir / "history.jsonl").is_file()


def test_a_failed_load_says_why_and_ctrl_r_builds_then_answers_the_waiting_question(data_dir):
    bot = FakeBot(load_error=QAError("the index in embeddings was built with model other-model"))
    chat = Chat(data_dir, bot)
    session = chat.session
    chat.loaded()
    assert session.state is AppState.BROKEN and chat.of(LoadFailed)
    assert session.load_error.startswith("The index in embeddings was built with model other-model")
    assert "Ctrl+R" in session.load_error
    waiting = session.ask(LONDON_Q)
    assert chat.statuses()[waiting.id] == "Waiting for an index — press Ctrl+R to re-index"  # as the message says

    session.reindex()
    assert session.state is AppState.INDEXING and chat.of(IndexingStarted)
    assert chat.statuses()[waiting.id] == "Waiting for the index to be rebuilt…"
    status = session.activity_status()
    assert status is not None and status.progress is None and "reading, splitting and embedding" in status.label
    chat.runner.run("index")
    assert chat.of(ActivityChanged)
    assert any(note.startswith("Indexed 3 files, 5 passages") for note in chat.notices())
    assert session.state is AppState.READY and session.load_error is None
    chat.answer_all()
    assert chat.of(Answered)[0].question_id == waiting.id


def test_errors_while_asking_become_the_reply_and_the_queue_goes_on(data_dir):
    class Failing(FakeBot):
        def ask(self, question, history=(), k=5, mode=None):
            if "disk" in question:
                raise RuntimeError("disk on fire")
            return super().ask(question, history, k, mode)

    chat = Chat(data_dir, Failing()).loaded()
    chat.session.ask(" ")
    chat.session.ask("what about the disk?")
    chat.session.ask(LONDON_Q)
    chat.answer_all()
    errors = [event.turn.error for event in chat.of(Answered)]
    assert errors == ["The question is empty", "Something went wrong: RuntimeError: disk on fire", None]


def test_reindex_waits_for_the_load_and_the_search_and_reports_its_progress(data_dir):
    chat = Chat(data_dir)
    session = chat.session
    session.reindex()
    assert chat.notices()[-1] == "Wait for the model and the index to load, then re-index"
    chat.loaded()
    session.ask(LONDON_Q)
    session.reindex()
    assert chat.notices()[-1] == "Wait for the search to finish, then re-index"
    chat.answer_all()
    session.reindex()
    session.reindex()
    assert chat.notices()[-1] == "Already re-indexing"
    assert chat.runner.groups() == ["index"]
    chat.runner.run("index")
    assert session.state is AppState.READY


def test_closing_stops_a_reindex_at_its_next_report_and_the_index_is_loaded_again(data_dir):
    chat = Chat(data_dir).loaded()
    chat.session.reindex()
    chat.session.close()
    chat.runner.run("index")
    assert any(note.startswith("Re-index failed: _Stopped") for note in chat.notices())
    assert chat.of(Reloading) and chat.session.state is AppState.LOADING
    assert chat.runner.groups() == ["bot"]


def test_an_index_dir_that_is_a_file_is_named_and_never_built(data_dir, tmp_path):
    not_a_folder = tmp_path / "index.txt"
    not_a_folder.write_text("not an index", encoding="utf-8")
    bot = FakeBot()
    bot.index_dir = not_a_folder
    chat = Chat(data_dir, bot).loaded()
    assert chat.session.state is AppState.BROKEN
    assert "is a file, not a folder" in chat.session.load_error and "Ctrl+R" not in chat.session.load_error
    chat.session.reindex()
    assert chat.of(Notice)[-1].severity is Severity.ERROR and "is a file" in chat.notices()[-1]
    assert chat.runner.groups() == []
    waiting = chat.session.ask(LONDON_Q)  # what it waits for agrees with the message: no "press Ctrl+R"
    assert chat.statuses()[waiting.id] == "Waiting for an index — restart with a folder as --index-dir"


def test_a_library_notice_from_a_worker_is_reported_printable(data_dir):
    chat = Chat(data_dir)
    chat.session.library_notice("corpus changed\x1b[2J; updating it")
    assert chat.notices() == ["corpus changed\\x1b[2J; updating it"]


# --- conversations ------------------------------------------------------------------------------


def test_answers_k_and_mode_are_kept_and_the_next_session_reopens_them(data_dir):
    chat = Chat(data_dir).loaded()
    chat.session.ask(LONDON_Q)
    chat.answer_all()
    chat.session.set_k(3)
    chat.session.set_mode("bm25")
    chat.session.ask("and who attended?")
    chat.answer_all()
    assert chat.notices()[:2] == ["k = 3: answers cite up to 3 passages", "Retrieval mode: bm25"]

    later = Chat(data_dir)
    later.session.restore()
    [opened] = later.of(ConversationOpened)
    assert [turn.question for turn in opened.turns] == [LONDON_Q, "and who attended?"]
    assert opened.turns[1].mode == "bm25" and opened.turns[1].k == 3
    assert later.session.k == 3 and later.session.mode == "bm25"
    assert later.notices() == []  # reopened quietly at start
    later.loaded()
    follow_up = later.session.ask("when was it?")
    assert follow_up.history == (LONDON_Q, "and who attended?")


def test_a_session_that_does_not_restore_starts_empty(data_dir):
    chat = Chat(data_dir).loaded()
    chat.session.ask(LONDON_Q)
    chat.answer_all()
    later = Chat(data_dir, restore=False)
    later.session.restore()
    assert later.of(ConversationOpened) == [] and later.session.turns == []


def test_clear_deletes_the_conversation_and_undo_brings_it_back(data_dir):
    chat = Chat(data_dir).loaded()
    session = chat.session
    session.clear()
    assert chat.notices()[-1] == "Nothing to clear"
    session.ask(LONDON_Q)
    chat.answer_all()
    first = session.conversation_id
    assert first is not None
    session.clear()
    assert chat.of(TranscriptCleared) and session.conversation_id is None and session.turns == []
    assert "Ctrl+Z brings it back" in chat.notices()[-1]
    assert session.conversations() == []
    assert session.undo() is True
    assert session.conversation_id == first and [t.question for t in session.turns] == [LONDON_Q]
    assert session.undo() is False  # nothing more to bring back


def test_a_new_conversation_keeps_the_old_one_and_either_can_be_reopened_or_deleted(data_dir):
    chat = Chat(data_dir).loaded()
    session = chat.session
    session.ask(LONDON_Q)
    chat.answer_all()
    first = session.conversation_id
    session.new_conversation()
    assert session.conversation_id is None and session.turns == []
    session.ask("and who attended?")
    chat.answer_all()
    assert session.turns[0].answer.history == ()  # a new conversation has no earlier questions
    second = session.conversation_id
    assert [c.id for c in session.conversations()] == [second, first]
    assert session.open_conversation(first) is True
    assert chat.notices()[-1] == f"Reopened: {LONDON_Q}"
    session.delete_conversation(second)
    assert session.conversation_id == first  # deleting another conversation leaves this one shown
    assert [c.id for c in session.conversations()] == [first]
    assert session.open_conversation(second) is False


def test_an_answer_that_comes_after_the_conversation_was_cleared_is_dropped(data_dir):
    chat = Chat(data_dir).loaded()
    session = chat.session
    session.ask(LONDON_Q)
    session.ask("and who attended?")
    session.clear()  # nothing kept yet: only the questions waiting
    assert chat.notices()[-1] == "Cleared the conversation"
    chat.answer_all()
    assert chat.of(Answered) == [] and session.turns == []
    assert ConversationStore(data_dir).conversations() == []
    assert [call[0] for call in chat.bot.calls] == [LONDON_Q]  # the waiting one was never asked


# --- export -------------------------------------------------------------------------------------


def test_export_writes_the_conversation_or_says_there_is_nothing_yet(data_dir, tmp_path):
    chat = Chat(data_dir).loaded()
    assert chat.session.export() is None
    assert chat.notices()[-1] == "Nothing to export yet: ask a question first"
    chat.session.ask(LONDON_Q)
    chat.session.ask("What is the recipe for chocolate cake?")
    chat.answer_all()
    written = chat.session.export()
    assert written is not None and written.parent == data_dir / "exports"
    assert chat.of(Notice)[-1].title == "Exported the conversation to" and chat.notices()[-1] == str(written.resolve())
    text = written.read_text(encoding="utf-8")
    assert f"## {LONDON_Q}" in text and "· mode fused · k 5 ·" in text and "Closest passages (not an answer)" in text
    again = chat.session.export()
    assert again is not None and again != written  # never overwrites an export
    mine = chat.session.export(tmp_path / "mine.md")
    assert mine == tmp_path / "mine.md" and mine.read_text(encoding="utf-8") == text


def test_the_session_imports_no_textual():
    import subprocess
    import sys

    code = "import sys, ui.session; assert not [m for m in sys.modules if m.split('.')[0] == 'textual'], 'textual'"
    subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).resolve().parent.parent, check=True)


# --- sources ------------------------------------------------------------------------------------


def test_a_source_is_opened_where_the_quote_is_now(data_dir):
    from fake_bot import DOCUMENTS, LONDON

    chat = Chat(data_dir).loaded()
    chat.session.ask(LONDON_Q)
    chat.answer_all()
    answer = chat.session.turns[0].answer
    hit = answer.hits[0]
    view = chat.session.open_source(answer, hit)
    assert view.found == view.cited == (LONDON.start, LONDON.end) and not view.changed
    [(start, end)] = view.support
    assert DOCUMENTS[LONDON.doc][start:end] == answer.sentences[0].text

    added = "A new first paragraph.\n\n"
    chat.bot.documents[LONDON.doc] = added + DOCUMENTS[LONDON.doc] + "\n" + LONDON.text  # the quote twice, moved
    view = chat.session.open_source(answer, hit)
    assert view.changed and view.found == (LONDON.start + len(added), LONDON.end + len(added))  # the nearer copy
    [(start, end)] = view.support
    assert view.text[start:end] == answer.sentences[0].text

    chat.bot.documents[LONDON.doc] = DOCUMENTS[LONDON.doc].replace("Hammond", "Someone")
    view = chat.session.open_source(answer, hit)
    assert view.changed and view.found is None and view.support == ()


def test_a_source_that_cannot_be_read_is_a_notice_naming_the_file(data_dir):
    chat = Chat(data_dir).loaded()
    chat.session.ask(LONDON_Q)
    chat.answer_all()
    answer = chat.session.turns[0].answer
    del chat.bot.documents[answer.hits[0].passage.doc]
    assert chat.session.open_source(answer, answer.hits[0]) is None
    assert chat.of(Notice)[-1].severity is Severity.ERROR
    # The file named as it is, also where the library's message starts with it (no "London-meeting.txt").
    assert chat.notices()[-1] == "Cannot open london-meeting.txt: london-meeting.txt: cannot read (No such file or directory)"


def test_a_corpus_folder_that_is_gone_is_said_once_at_load_and_named_when_a_source_is_opened(data_dir, tmp_path):
    bot = FakeBot()
    bot.manifest.corpus_found = False
    chat = Chat(data_dir, bot).loaded()
    [gone] = [n for n in chat.of(Notice) if "is gone" in n.message]
    assert gone.severity is Severity.WARNING
    assert gone.message == ("The corpus folder /data/corpus/ is gone: answers still come from the index, "
                            "but their sources cannot be opened or re-indexed")
    chat.session.reindex()  # nothing to re-index from: the user is asked for a folder
    assert "is gone" in chat.of(FolderWanted)[-1].why and chat.runner.groups() == []
    chat.session.reindex(tmp_path)
    chat.runner.run("index")  # loaded again: not said twice
    assert chat.bot.reindexed == [tmp_path]
    assert sum("is gone" in note for note in chat.notices()) == 1
    chat.session.ask(LONDON_Q)
    chat.answer_all()
    answer = chat.session.turns[0].answer
    assert chat.session.open_source(answer, answer.hits[0]) is None
    assert chat.notices()[-1] == "Cannot open london-meeting.txt: the corpus folder /data/corpus/ is gone"


def test_a_conversation_deleted_in_another_window_is_saved_again_as_a_new_one_with_a_notice(data_dir):
    a = Chat(data_dir).loaded()
    a.session.ask(LONDON_Q)
    a.answer_all()
    b = Chat(data_dir)
    b.session.restore()
    b.loaded()
    shown = b.session.conversation_id
    assert shown == a.session.conversation_id
    a.session.clear()  # window A deletes the conversation window B shows
    b.session.ask("and who attended?")
    b.answer_all()
    assert "deleted in another window" in b.notices()[-1] and "2 questions" in b.notices()[-1]
    assert b.session.conversation_id not in (None, shown)
    [kept] = ConversationStore(data_dir).conversations()
    assert kept.id == b.session.conversation_id and kept.turns == 2 and kept.title == LONDON_Q


def test_the_next_start_reopens_the_conversation_shown_last_not_the_one_answered_last(data_dir):
    chat = Chat(data_dir).loaded()
    chat.session.ask(LONDON_Q)
    chat.answer_all()
    first = chat.session.conversation_id
    chat.session.new_conversation()
    chat.session.ask("and who attended?")
    chat.answer_all()  # the latest answered
    chat.session.open_conversation(first)

    later = Chat(data_dir)
    later.session.restore()
    assert later.session.conversation_id == first

    later.session.new_conversation()
    again = Chat(data_dir)
    again.session.restore()
    assert again.session.conversation_id is None and again.of(ConversationOpened) == []  # a new one was shown last


# --- collections --------------------------------------------------------------------------------

HAMMOND_Q = "Which companies will the Foreign Secretary visit in Japan?"


class CountingFactory:
    """The fake encoder's factory, counting the encoders made (one: the model stays loaded)."""

    def __init__(self, factory) -> None:
        self.factory, self.made = factory, 0

    def __call__(self, spec):
        self.made += 1
        return self.factory(spec)


def collections_chat(data_dir, fake_factory, names=("first", "second")) -> tuple[Chat, CountingFactory]:
    factory = CountingFactory(fake_factory)
    return Chat(data_dir, Bot.for_collections(names, encoder_factory=factory)).loaded(), factory


def test_a_session_made_for_collections_asks_them_at_the_fitted_operating_point(data_dir, seed_collections):
    session = ChatSession(None, runner=ManualRunner(), data_dir=data_dir, collections=["second", "first"])
    assert session.collections == ("second", "first") and session.bot.index_dir == seed_collections.get("second").index_dir
    assert session.threshold == threshold_of(AnswerPolicy()) and session.abstain_below is None
    everything = ChatSession(None, runner=ManualRunner(), data_dir=data_dir, collections=["all"])
    assert everything.collections == ("first", "second", "unbuilt")


def test_the_summary_counts_every_collection_asked_and_the_registry_lists_each_with_why_one_cannot_be_asked(data_dir, seed_collections, fake_factory):
    chat, _ = collections_chat(data_dir, fake_factory)
    session = chat.session
    first, second = (info(seed_collections.get(name)) for name in ("first", "second"))
    assert session.summary.collections == ("first", "second")
    assert (session.summary.documents, session.summary.passages) == (5, first.passages + second.passages)
    assert [part.collections for part in session.parts] == [("first",), ("second",)]
    choices = {choice.name: choice for choice in session.choices}
    assert choices["first"].asked and choices["first"].ready and not choices["unbuilt"].asked
    folder = shown_path(seed_collections.get("first").folder)
    assert choices["first"].line == f"3 documents · {first.passages:,} passages · {folder}/"
    unbuilt = shown_path(seed_collections.get("unbuilt").folder)
    assert choices["unbuilt"].line == f"collection unbuilt has no index yet; build it with: qa index {unbuilt}"


def test_answers_name_their_collection_and_open_their_source_from_it_also_after_a_switch(data_dir, seed_collections, fake_factory):
    chat, _ = collections_chat(data_dir, fake_factory)
    session = chat.session
    session.ask(HAMMOND_Q)
    chat.answer_all()
    answer = session.turns[0].answer
    assert {hit.collection for hit in answer.hits} == {"first", "second"} and session.names_collections(answer)
    hit = next(hit for hit in answer.hits if hit.collection == "second")
    view = session.open_source(answer, hit)
    assert view is not None and view.found == view.cited
    assert view.text == (seed_collections.get("second").folder / hit.passage.doc).read_text(encoding="utf-8")
    exported = session.export().read_text(encoding="utf-8")
    assert "Collections: first, second" in exported and f"— [second] {hit.passage.doc}, characters" in exported

    session.use_collections(["first"])
    chat.runner.run("bot")
    session.ask(HAMMOND_Q)
    chat.answer_all()
    assert session.collections == ("first",) and not session.names_collections(session.turns[-1].answer)
    assert session.names_collections(answer)  # a kept answer from both still names them
    view = session.open_source(answer, hit)  # "second" is not asked now: read from its folder in the registry
    assert view is not None and view.found == view.cited


def test_switching_collections_keeps_the_model_and_says_what_is_asked(data_dir, seed_collections, fake_factory):
    chat, factory = collections_chat(data_dir, fake_factory)
    session = chat.session
    session.use_collections(["second"])
    assert session.state is AppState.LOADING and chat.of(Switching)[-1].status == "Opening second…"
    waiting = session.ask(HAMMOND_Q)  # asked while the switch opens the collection: it waits, then asks "second"
    assert chat.statuses()[waiting.id] == "Waiting for second to open…"
    chat.runner.run("bot")
    assert session.state is AppState.READY and session.collections == ("second",)
    assert session.summary.collections == ("second",) and session.summary.documents == 2
    assert chat.notices()[-1] == f"Asking second: 2 documents · {session.summary.passages:,} passages"
    chat.answer_all()
    assert {hit.collection for hit in session.turns[0].answer.hits} == {"second"}
    unbuilt = f"collection unbuilt has no index yet; build it with: qa index {shown_path(seed_collections.get('unbuilt').folder)}"
    session.use_collections(["second", "unbuilt"])  # named, but it has no index: refused in one line
    chat.runner.run("bot")
    assert chat.of(Notice)[-1].severity is Severity.WARNING and chat.notices()[-1] == unbuilt.capitalize()
    assert session.collections == ("second",) and session.state is AppState.READY
    session.use_collections(["all"])  # every collection that can be asked, and a line for the one that cannot
    chat.runner.run("bot")
    assert session.collections == ("first", "second") and session.summary.documents == 5
    assert chat.notices()[-2:] == [f"Asking first, second: 5 documents · {session.summary.passages:,} passages", f"Left out: {unbuilt}"]
    assert factory.made == 1  # one encoder all along
    session.use_collections(["first", "second"])
    assert chat.notices()[-1] == "Already asking first, second" and chat.runner.groups() == []


def test_a_damaged_collection_is_said_in_one_line_and_never_offered_the_seeds(data_dir, seed_collections, fake_factory):
    (seed_collections.get("second").index_dir / "manifest.json").write_text("{not json", encoding="utf-8")
    chat, _ = collections_chat(data_dir, fake_factory, names=("first",))
    session = chat.session
    damaged = next(choice for choice in session.choices if choice.name == "second")
    assert not damaged.ready
    assert damaged.line == f"the index of collection second cannot be read; rebuild it with: qa index {shown_path(seed_collections.get('second').folder)}"
    session.use_collections(["first", "second"])
    chat.runner.run("bot")
    assert chat.notices()[-1] == "The index of collection second cannot be read; rebuild it with: qa index " + shown_path(seed_collections.get("second").folder)
    assert session.collections == ("first",) and session.state is AppState.READY
    assert not any("seeds" in note for note in chat.notices())


def test_a_collection_with_no_index_is_built_from_its_own_folder_never_from_the_seeds(data_dir, seed_collections, fake_factory):
    chat = Chat(data_dir, Bot.for_collections(["unbuilt"], encoder_factory=fake_factory)).loaded()
    session = chat.session
    folder = seed_collections.get("unbuilt").folder
    assert session.state is AppState.BROKEN and not session.index_missing
    assert session.load_error == (f"Collection unbuilt has no index yet; build it with: qa index {folder} — or press Ctrl+R to "
                                  f"build it from its folder here, or choose other collections (Ctrl+P → Collections).")
    assert "seeds" not in session.reindex_description()
    waiting = session.ask(HAMMOND_Q)
    assert chat.statuses()[waiting.id] == "Waiting for an index — press Ctrl+R to build it from its folder here, or choose other collections (Ctrl+P → Collections)"
    session.reindex()
    chat.runner.run("index")
    assert session.state is AppState.READY and session.summary.collections == ("unbuilt",)
    assert info(seed_collections.get("unbuilt")).documents == 1 and Path(session.summary.corpus_root) == folder


def test_a_chat_that_cannot_open_a_collection_offers_the_others_and_switching_mends_it(data_dir, seed_collections, fake_factory):
    chat = Chat(data_dir, Bot.for_collections(["first", "unbuilt"], encoder_factory=fake_factory)).loaded()
    session = chat.session
    assert session.state is AppState.BROKEN and "choose other collections (Ctrl+P → Collections)" in session.load_error
    assert [(choice.name, choice.ready) for choice in session.choices] == [("first", True), ("second", True), ("unbuilt", False)]
    waiting = session.ask(HAMMOND_Q)
    session.use_collections(["first", "second"])
    chat.runner.run("bot")
    assert session.state is AppState.READY and session.collections == ("first", "second") and session.load_error is None
    chat.answer_all()
    assert chat.of(Answered)[-1].question_id == waiting.id and chat.of(Answered)[-1].turn.answer is not None


def test_a_new_generation_moves_the_header_and_a_question_waits_for_the_look(data_dir, seed_collections, fake_factory):
    chat, _ = collections_chat(data_dir, fake_factory)
    session = chat.session
    before = session.summary
    session.check_for_updates()
    chat.runner.run("watch")
    assert chat.of(IndexUpdated) == []  # nothing new
    second = seed_collections.get("second")
    (second.folder / "new.txt").write_text("A new note\n\nThe ministers will meet again in Osaka next spring.\n", encoding="utf-8")
    build_index(second.folder, second.index_dir, encoder_factory=fake_factory)  # as qa watch would
    session.check_for_updates()
    session.check_for_updates()  # one look at a time
    assert chat.runner.groups() == ["watch"]
    waiting = session.ask("Where will the ministers meet next spring?")
    assert chat.runner.groups() == ["watch"] and chat.statuses()[waiting.id] == "Searching…"
    chat.runner.run("watch")
    assert len(chat.of(IndexUpdated)) == 1
    assert session.summary.documents == before.documents + 1 and session.summary.passages > before.passages
    assert next(c for c in session.choices if c.name == "second").line.startswith("3 documents")
    assert chat.runner.groups() == ["ask"]  # the waiting question goes on
    chat.answer_all()
    assert session.turns[-1].answer.hits[0].passage.doc == "new.txt"


# --- the operating point ------------------------------------------------------------------------

ATTEND_Q = "Who attended the meeting?"  # the stand-in's confidence: 0.41


def test_abstain_below_moves_the_operating_point_from_the_next_question_and_is_checked(data_dir):
    chat = Chat(data_dir).loaded()
    session = chat.session
    session.ask(ATTEND_Q)
    chat.answer_all()
    assert not session.turns[-1].answer.abstained and session.turns[-1].answer.confidence == 0.41
    assert session.set_abstain_below("0.5")
    assert chat.of(OptionsChanged)[-1].abstain_below == 0.5 and session.threshold == 0.5
    assert chat.notices()[-1] == "Abstain below 0.50: an answer with a lower confidence says the documents don't answer"
    session.ask(ATTEND_Q)
    chat.answer_all()
    assert session.turns[-1].answer.abstained
    assert not session.set_abstain_below("1.5") and not session.set_abstain_below("lots")
    assert chat.of(Notice)[-1].severity is Severity.WARNING
    assert chat.notices()[-1] == ("The threshold must be a number from 0 to 1 (the confidence below which the bot abstains), "
                                  "not 'lots'")
    assert session.abstain_below == 0.5
    assert session.set_abstain_below(None)
    assert session.abstain_below is None and session.threshold == threshold_of(AnswerPolicy())
    session.ask(ATTEND_Q)
    chat.answer_all()
    assert not session.turns[-1].answer.abstained


def test_the_operating_point_is_kept_with_the_conversation_and_the_one_given_at_start_wins(data_dir):
    chat = Chat(data_dir).loaded()
    chat.session.set_abstain_below(0.5)
    chat.session.ask(ATTEND_Q)
    chat.answer_all()
    [kept] = ConversationStore(data_dir).conversations()
    assert kept.abstain_below == 0.5

    later = Chat(data_dir)
    later.session.restore()
    assert later.session.abstain_below == 0.5
    later.loaded()
    later.session.ask(ATTEND_Q)
    later.answer_all()
    assert later.session.turns[-1].answer.abstained

    given = Chat(data_dir, abstain_below=0.3)  # qa chat --abstain-below 0.3
    given.session.restore()
    assert given.session.abstain_below == 0.3
    assert ConversationStore(data_dir).conversations()[0].abstain_below == 0.3
    given.loaded()
    given.session.ask(ATTEND_Q)
    given.answer_all()
    assert not given.session.turns[-1].answer.abstained


def test_qa_abstain_below_in_the_environment_is_the_chats_operating_point(data_dir, monkeypatch):
    monkeypatch.setenv("QA_ABSTAIN_BELOW", "0.5")
    chat = Chat(data_dir).loaded()
    assert chat.session.abstain_below == 0.5
    chat.session.ask(ATTEND_Q)
    chat.answer_all()
    assert chat.session.turns[-1].answer.abstained


def test_a_store_made_before_the_operating_point_was_kept_opens_and_keeps_it(data_dir):
    import sqlite3

    data_dir.mkdir(parents=True)
    db = sqlite3.connect(data_dir / "conversations.sqlite3")
    db.executescript(
        "CREATE TABLE conversations (id INTEGER PRIMARY KEY, title TEXT NOT NULL, created_at REAL NOT NULL, "
        "updated_at REAL NOT NULL, k INTEGER NOT NULL, mode TEXT NOT NULL, deleted_at REAL);"
        "INSERT INTO conversations (title, created_at, updated_at, k, mode) VALUES ('old', 1, 1, 3, 'bm25');"
    )
    db.commit()
    db.close()
    store = ConversationStore(data_dir)
    [old] = store.conversations()
    assert (old.title, old.k, old.abstain_below) == ("old", 3, None)
    store.set_options(old.id, 3, "bm25", 0.25)
    assert store.conversation(old.id).abstain_below == 0.25


def test_a_kept_conversation_keeps_each_passages_collection_and_the_confidence(data_dir, seed_collections, fake_factory):
    chat, _ = collections_chat(data_dir, fake_factory)
    chat.session.ask(HAMMOND_Q)
    chat.answer_all()
    asked = chat.session.turns[0].answer
    later = Chat(data_dir)
    later.session.restore()
    kept = later.session.turns[0].answer
    assert [hit.collection for hit in kept.hits] == [hit.collection for hit in asked.hits]
    assert kept.confidence == asked.confidence is not None


def test_an_answer_kept_before_collections_reads_back_without_them():
    import json

    from ui.conversations import answer_from_json, answer_to_json

    chat_answer = FakeBot(collections=("press", "notes")).ask(LONDON_Q)
    data = json.loads(answer_to_json(chat_answer))
    del data["confidence"]
    for hit in data["hits"]:
        del hit["collection"]
    old = answer_from_json(json.dumps(data))
    assert [hit.collection for hit in old.hits] == [None, None, None] and old.confidence is None
    assert old.hits == tuple(type(h)(h.rank, h.score, h.passage) for h in chat_answer.hits)


def test_ctrl_r_on_an_index_dir_of_documents_shows_why_the_library_refuses_to_write_there(data_dir, tmp_path, fake_factory):
    documents = tmp_path / "mydocs"
    documents.mkdir()
    (documents / "notes.txt").write_text("Notes\n\nThe budget was agreed in March.\n", encoding="utf-8")
    chat = Chat(data_dir, Bot(documents, encoder_factory=fake_factory)).loaded()
    assert chat.session.state is AppState.BROKEN and chat.session.index_missing
    chat.session.reindex()
    chat.runner.run("index")
    assert chat.of(Notice)[-1].severity is Severity.ERROR
    assert chat.notices()[-1] == (f"Re-index failed: {documents} holds documents (notes.txt), not an index; an index is never written "
                                  f"among documents: index that folder with qa index {documents}, or give the index an empty --index-dir")
    assert sorted(path.name for path in documents.iterdir()) == ["notes.txt"]  # nothing written among the documents
