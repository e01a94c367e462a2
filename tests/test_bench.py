"""qa bench: metric wiring checked by hand, loaders' errors, and real runs on the seeds and a public set."""

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from qa.eval.bench import evaluate_rankings, run_bench, write_trec_runs
from qa.eval.datasets import DatasetError, load_beir, load_seed_questions

# ranx costs about 4 s to import and compile its kernels in each process: one xdist worker pays it.
pytestmark = pytest.mark.xdist_group("ranx")

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared" / "datasets"

QRELS = {"q1": {"d1": 1, "d2": 1}, "q2": {"d3": 2}}
DOCS = ["d1", "d2", "d3", "d4", "d5"]


def ranking(order):
    return [(doc, float(len(order) - i)) for i, doc in enumerate(order)]


def test_perfect_run_scores_one():
    run = {"q1": ranking(["d1", "d2", "d3", "d4", "d5"]), "q2": ranking(["d3", "d1", "d2", "d4", "d5"])}
    scores = evaluate_rankings(QRELS, run)
    assert scores["ndcg@10"] == pytest.approx(1.0)
    assert scores["mrr@10"] == pytest.approx(1.0)
    assert scores["recall@5"] == pytest.approx(1.0)
    assert scores["recall@1"] == pytest.approx(0.75)  # q1 has two relevant documents: 1/2, q2: 1


def test_reversed_run_scores_the_values_computed_by_hand():
    run = {"q1": ranking(list(reversed(DOCS))), "q2": ranking(list(reversed(DOCS)))}
    scores = evaluate_rankings(QRELS, run)
    # q1: relevant at ranks 4 and 5; DCG = 1/log2(5) + 1/log2(6), IDCG = 1 + 1/log2(3)
    ndcg_q1 = (1 / math.log2(5) + 1 / math.log2(6)) / (1 + 1 / math.log2(3))
    # q2: grade-2 document at rank 3; DCG = 2/log2(4), IDCG = 2/log2(2)
    ndcg_q2 = (2 / math.log2(4)) / 2
    assert scores["ndcg@10"] == pytest.approx((ndcg_q1 + ndcg_q2) / 2)  # 0.50063
    assert scores["mrr@10"] == pytest.approx((1 / 4 + 1 / 3) / 2)
    assert scores["recall@1"] == 0.0 and scores["recall@5"] == pytest.approx(1.0)


def test_a_query_missing_from_the_run_counts_as_zero():
    scores = evaluate_rankings(QRELS, {"q1": ranking(["d1", "d2"])})
    assert scores["recall@10"] == pytest.approx(0.5)


def write_beir(folder, corpus_lines, query_lines, qrels_text):
    (folder / "qrels").mkdir(parents=True)
    (folder / "corpus.jsonl").write_text("\n".join(corpus_lines) + "\n")
    (folder / "queries.jsonl").write_text("\n".join(query_lines) + ("\n" if query_lines else ""))
    (folder / "qrels" / "test.tsv").write_text(qrels_text)


CORPUS = [json.dumps({"_id": d, "title": f"T{d}", "text": f"text of {d}"}) for d in DOCS]
QUERIES = [json.dumps({"_id": "q1", "text": "one", "metadata": {"d1": "gold"}}), json.dumps({"_id": "q2", "text": "two"}),
           json.dumps({"_id": "q3", "text": "not judged"})]


def test_beir_loader_keeps_only_judged_queries_and_drops_metadata(tmp_path):
    write_beir(tmp_path, CORPUS, QUERIES, "query-id\tcorpus-id\tscore\r\nq1\td1\t1\r\nq1\td2\t1\r\nq2\td3\t2\r\nq2\td4\t0\r\n")
    dataset = load_beir(tmp_path)
    assert [q.id for q in dataset.queries] == ["q1", "q2"]
    assert dataset.qrels == QRELS  # grade 0 is not relevant
    assert all(not hasattr(q, "metadata") for q in dataset.queries) and dataset.queries[0].text == "one"


@pytest.mark.parametrize(
    "corpus, queries, qrels, message",
    [
        (CORPUS[:2] + ['{"_id": "d3", "title": '], QUERIES, "q1\td1\t1\n", r"corpus.jsonl:3: malformed JSON"),
        (CORPUS, QUERIES, "query-id\tcorpus-id\tscore\nq1\td9\t1\n", r"test.tsv:2: judgement for unknown document 'd9'"),
        (CORPUS, [], "q1\td1\t1\n", r"queries.jsonl: no queries"),
        (CORPUS, QUERIES, "q7\td1\t1\n", r"judgements for unknown query 'q7'"),
        (CORPUS, QUERIES, "q1 d1 1\n", r"test.tsv:1: expected query-id, corpus-id and score separated by tabs"),
    ],
)
def test_beir_loader_errors_name_the_file_and_line(tmp_path, corpus, queries, qrels, message):
    write_beir(tmp_path, corpus, queries, qrels)
    with pytest.raises(DatasetError, match=message):
        load_beir(tmp_path)


def test_missing_split_lists_the_available_ones(tmp_path):
    write_beir(tmp_path, CORPUS, QUERIES, "q1\td1\t1\n")
    with pytest.raises(DatasetError, match=r"missing judgements: .*dev.tsv \(available splits: test\)"):
        load_beir(tmp_path, split="dev")


def test_seed_questions_resolve_every_gold_quote():
    dataset = load_seed_questions(REPO / "benchmarks/seeds/questions.jsonl", REPO / "seeds")
    assert len(dataset.queries) >= 50
    kinds = {q.kind for q in dataset.queries}
    assert kinds == {"paraphrase", "keyword", "factoid", "multi", "followup", "unanswerable"}
    for doc, start, end in dataset.gold_spans.values():
        assert end > start and (REPO / "seeds" / doc).exists()
    assert all(q.history for q in dataset.queries if q.kind == "followup")
    assert all(q.id not in dataset.qrels for q in dataset.queries if q.kind == "unanswerable")


@pytest.mark.slow
def test_seeds_bench_with_the_real_model(tmp_path):
    dataset = load_seed_questions(REPO / "benchmarks/seeds/questions.jsonl", REPO / "seeds")
    result = run_bench(dataset, cache_dir=tmp_path)
    modes = {m.mode: m for m in result.modes}
    assert set(modes) == {"fused", "dense", "bm25", "hybrid", "rrf"}
    assert result.judged_queries == sum(1 for q in dataset.queries if q.kind != "unanswerable")
    # Floors well below the measured figures (README), so a broken pipeline cannot pass.
    assert modes["dense"].metrics["recall@5"] >= 0.85 and modes["bm25"].metrics["recall@5"] >= 0.6
    assert modes["dense"].metrics["recall@100"] == pytest.approx(1.0)
    assert modes["fused"].metrics["recall@5"] >= 0.9 and modes["fused"].metrics["mrr@10"] >= 0.85
    assert 0.0 <= modes["dense"].seeds["abstained_answerable"] <= 0.1
    assert modes["dense"].seeds["abstained_unanswerable"] > 0.0
    assert result.best_mode in modes and not modes[result.best_mode].p_values
    assert all(m.p_values for m in result.modes if m.mode != result.best_mode)
    again = run_bench(dataset, cache_dir=tmp_path, modes=["bm25"], limit=3)
    assert again.index_cached and again.queries == 3
    paths = write_trec_runs(again, tmp_path / "runs")
    first = paths[0].read_text().splitlines()[0].split()
    assert first[1] == "Q0" and first[3] == "1" and first[5] == "bm25"


def _first_documents_of(source: Path, target: Path, count: int) -> Path:
    """A BEIR folder holding the first count documents of source and the judgements about them
    (indexing all of Cranfield's sentences would take minutes of the suite)."""
    (target / "qrels").mkdir(parents=True)
    lines = (source / "corpus.jsonl").read_text(encoding="utf-8").splitlines()[:count]
    (target / "corpus.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    kept = {json.loads(line)["_id"] for line in lines}
    (target / "queries.jsonl").write_text((source / "queries.jsonl").read_text(encoding="utf-8"), encoding="utf-8")
    header, *rows = (source / "qrels" / "test.tsv").read_text(encoding="utf-8").splitlines()
    rows = [row for row in rows if row.split("\t")[1] in kept]
    (target / "qrels" / "test.tsv").write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return target


@pytest.mark.slow
@pytest.mark.skipif(not (SHARED / "cranfield").exists(), reason="../shared/datasets/cranfield is not beside the repo")
def test_qa_bench_cli_on_a_public_set_with_limit_json_plot_and_runs(tmp_path):
    env = {**os.environ, "QA_CACHE_DIR": str(tmp_path / "cache")}
    cranfield = _first_documents_of(SHARED / "cranfield", tmp_path / "cranfield", 300)
    result = subprocess.run(
        [sys.executable, "-m", "qa", "bench", str(cranfield), "--limit", "25", "--json",
         "--plot", str(tmp_path / "recall.png"), "--runs", str(tmp_path / "runs")],
        capture_output=True, text=True, env=env, cwd=REPO, timeout=900,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    [data] = json.loads(result.stdout)
    assert (data["dataset"], data["queries"], data["passages"]) == ("cranfield", 25, 300)
    modes = {m["mode"]: m for m in data["modes"]}
    assert 0.2 < modes["bm25"]["metrics"]["ndcg@10"] <= 1.0 and 0.2 < modes["dense"]["metrics"]["ndcg@10"] <= 1.0
    assert (tmp_path / "recall.png").stat().st_size > 10_000
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == [f"cranfield-{m}.trec" for m in sorted(modes)]


# --- SQuAD-format files --------------------------------------------------------------------------

def _squad_fixture(folder: Path) -> Path:
    def article(title, paragraphs):
        return {"title": title, "paragraphs": [
            {"context": context, "qas": [{"id": qid, "question": q, "answers": [{"text": a, "answer_start": context.index(a)} for a in answers]}
                                         for qid, q, answers in qas]}
            for context, qas in paragraphs]}

    data = {"version": "1.1", "data": [
        article("Parthenon", [
            ("The Parthenon is a temple in Athens. It was completed in 432 BC.", [("p1", "When was the Parthenon completed?", ["432 BC", "432"])]),
            ("Its architects were Ictinus and Callicrates.", [("p2", "Who designed the Parthenon?", ["Ictinus and Callicrates"])]),
        ]),
        article("Steam_engine", [
            ("Steam engines spread in the 1850s.", [("s1", "When did steam engines spread?", ["the 1850s"])]),
        ]),
        article("Amazon_river", [
            ("The Amazon flows through Brazil.", [("a1", "Where does the Amazon flow?", ["Brazil"])]),
        ]),
    ]}
    path = folder / "mini-squad.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_squad_reader_indexes_the_article_range_and_asks_the_others_as_unanswerable(tmp_path):
    from qa.eval.datasets import NO_GOLD, load_squad, parse_article_range

    path = _squad_fixture(tmp_path)
    dataset = load_squad(path, parse_article_range("0-1"), per_article=None)
    assert sorted(dataset.documents) == ["000-Parthenon.txt", "001-Steam_engine.txt"]
    parthenon = dataset.documents["000-Parthenon.txt"]
    assert parthenon.startswith("Parthenon\n\nThe Parthenon is a temple")
    assert [q.id for q in dataset.queries if q.kind != NO_GOLD] == ["p1", "p2", "s1"]
    assert [(q.id, q.answers) for q in dataset.queries if q.kind == NO_GOLD] == [("a1", ("Brazil",))]
    # Each gold span is where the first answer stands in the written document.
    for qid in ("p1", "p2"):
        [(gold_id, _)] = dataset.qrels[qid].items()
        doc, start, end = dataset.gold_spans[gold_id]
        query = next(q for q in dataset.queries if q.id == qid)
        assert doc == "000-Parthenon.txt" and parthenon[start:end] == query.answers[0]
    only = load_squad(path, parse_article_range("0"), per_article=None, unanswerable_from=parse_article_range("2"))
    assert [q.id for q in only.queries] == ["p1", "p2", "a1"]


@pytest.mark.parametrize("text, message", [("3-1", "empty or negative"), ("a-b", "is not FIRST-LAST")])
def test_a_bad_article_range_is_refused_in_one_line(text, message):
    from qa.eval.datasets import parse_article_range

    with pytest.raises(DatasetError, match=message):
        parse_article_range(text)


def test_squad_reader_errors(tmp_path):
    from qa.eval.datasets import load_squad, parse_article_range

    path = _squad_fixture(tmp_path)
    with pytest.raises(DatasetError, match=r"has 3 articles \(0-2\); the range 0-9 goes past them"):
        load_squad(path, parse_article_range("0-9"))
    (tmp_path / "bad.json").write_text('{"data": [{"title": "x"}]}')
    with pytest.raises(DatasetError, match="article 0 lacks title, paragraphs"):
        load_squad(tmp_path / "bad.json")
    (tmp_path / "notjson.json").write_text("nope")
    with pytest.raises(DatasetError, match="not a SQuAD-format file"):
        load_squad(tmp_path / "notjson.json")


@pytest.mark.parametrize("answer, golds, expected", [
    ("It was completed in 432 BC. [1]", ["432 BC"], True),
    ("The Amazon flows through Brazil.", ["brazil!"], True),  # case and punctuation are normalised
    ("In the 1850s, steam spread.", ["the 1850s"], True),  # articles are dropped
    ("It holds 4320 seats.", ["432"], False),  # whole words only
])
def test_answer_containment_uses_squad_normalisation(answer, golds, expected):
    from qa.eval.squad import answer_contains

    assert answer_contains(answer, golds) is expected


@pytest.mark.parametrize("question, word", [
    ("How many moons does Mars have?", "how many"), ("Whose idea was it?", "who"),
    ("What did the man who founded it say?", "what"), ("In which year?", "which"), ("Name the river.", "other"),
])
def test_question_words(question, word):
    from qa.question_types import question_word

    assert question_word(question) == word


def test_squad_bench_measures_answers_per_question_word_and_caches_the_index(tmp_path, fake_factory):
    from qa.eval.datasets import load_squad, parse_article_range

    dataset = load_squad(_squad_fixture(tmp_path), parse_article_range("0-1"), per_article=None)
    result = run_bench(dataset, modes=["fused"], cache_dir=tmp_path / "cache", encoder_factory=fake_factory)
    [mode] = result.modes
    assert (result.dataset, result.queries, result.judged_queries) == ("squad-0-1", 4, 3)
    assert mode.metrics["recall@5"] == pytest.approx(1.0)  # three short documents: every gold is in the top 5
    assert (mode.seeds["questions"], mode.seeds["unanswerable_questions"]) == (3, 1)
    for key in ("answer_contains_gold", "first_sentence_contains_gold", "abstained_answerable", "abstained_unanswerable"):
        assert 0.0 <= mode.seeds[key] <= 1.0
    assert mode.seeds["first_sentence_contains_gold"] <= mode.seeds["answer_contains_gold"]
    assert set(mode.by_question_word) == {"when", "who", "where"}
    assert mode.by_question_word["when"]["questions"] == 2 and mode.by_question_word["where"]["unanswerable_questions"] == 1
    again = run_bench(dataset, modes=["fused"], cache_dir=tmp_path / "cache", encoder_factory=fake_factory)
    assert again.index_cached


def _squad2_fixture(folder: Path) -> Path:
    """Two articles in SQuAD 2.0's form: answerable questions, and unanswerable ones written to look
    answerable from the same paragraph (is_impossible, with the span a careless reader would quote)."""
    context = "The Parthenon is a temple in Athens. It was completed in 432 BC."
    data = {"version": "v2.0", "data": [
        {"title": "Parthenon", "paragraphs": [{"context": context, "qas": [
            {"id": "p1", "question": "When was the Parthenon completed?", "is_impossible": False,
             "answers": [{"text": "432 BC", "answer_start": context.index("432 BC")}]},
            {"id": "p2", "question": "When was the Parthenon destroyed?", "is_impossible": True, "answers": [],
             "plausible_answers": [{"text": "432 BC", "answer_start": context.index("432 BC")}]},
        ]}]},
        {"title": "Amazon_river", "paragraphs": [{"context": "The Amazon flows through Brazil.", "qas": [
            {"id": "a1", "question": "Where does the Amazon flow?", "is_impossible": False, "answers": [{"text": "Brazil", "answer_start": 25}]},
            {"id": "a2", "question": "Where does the Amazon freeze?", "is_impossible": True, "answers": [],
             "plausible_answers": [{"text": "Brazil", "answer_start": 25}]},
        ]}]},
    ]}
    path = folder / "mini-squad2.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_squad2_unanswerable_questions_are_asked_of_their_own_article_with_their_plausible_answer(tmp_path):
    from qa.eval.datasets import NEAR_MISS, NO_GOLD, load_squad, parse_article_range

    dataset = load_squad(_squad2_fixture(tmp_path), parse_article_range("0"), per_article=None)
    kinds = {q.id: (q.kind, q.answerable, q.plausible) for q in dataset.queries}
    assert kinds == {
        "p1": ("squad", True, ()), "p2": (NEAR_MISS, False, ("432 BC",)),  # near-miss: its article is indexed
        "a1": (NO_GOLD, False, ()),  # off-topic: its article is not
    }
    assert set(dataset.qrels) == {"p1"}  # unanswerable questions are not judged for retrieval


def test_articles_are_given_as_ranges_and_lists():
    from qa.eval.datasets import describe_articles, parse_article_range

    assert parse_article_range("0-6,13") == (0, 1, 2, 3, 4, 5, 6, 13)
    assert describe_articles(parse_article_range("7-12,14-15")) == "7-12,14-15"
    assert describe_articles(parse_article_range("24-47")) == "24-47"


def test_the_abstention_curve_moves_with_the_threshold_and_meets_the_bots_own_abstention(tmp_path, fake_factory):
    from qa.eval.datasets import load_squad, parse_article_range

    dataset = load_squad(_squad2_fixture(tmp_path), parse_article_range("0-1"), per_article=None)
    result = run_bench(dataset, modes=["fused"], cache_dir=tmp_path / "cache", encoder_factory=fake_factory)
    [mode] = result.modes
    curve = mode.abstention_curve
    assert curve[0]["threshold"] == 0.0 and curve[-1]["threshold"] == 1.0
    for key in ("false_abstention", "near_miss"):
        values = [point[key] for point in curve]
        assert values == sorted(values)  # a higher threshold never abstains less
    assert curve[-1]["false_abstention"] == curve[-1]["near_miss"] == 1.0  # nothing is certain
    at = next(point for point in curve if point["threshold"] == mode.operating_point)
    assert (at["false_abstention"], at["near_miss"]) == (mode.seeds["abstained_answerable"], mode.seeds["abstained_near_miss"])
    assert mode.seeds["near_miss_questions"] == 2 and 0.0 <= mode.seeds["quoted_plausible"] <= 1.0
