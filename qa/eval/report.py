"""Rich tables of `qa bench` results for the terminal."""

from __future__ import annotations

import math

from qa.eval.bench import METRICS, BenchResult

_SEED_MEASURES = {
    "followup_recall@5": "follow-up R@5",
    "multi_gold_in_top5": "multi-doc gold in top 5",
    "abstained_unanswerable": "abstained, unanswerable",
    "abstained_answerable": "abstained, answerable (wrong)",
    "factoid_answer_has_span": "factoid answer has span",
}


def print_results(results: list[BenchResult]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(highlight=False)
    for result in results:
        title = f"{result.dataset} · {result.split} · {result.judged_queries} judged queries · {result.passages:,} passages"
        table = Table(title=title, title_justify="left")
        table.add_column("mode")
        for metric in METRICS:
            table.add_column(metric.replace("recall", "R").replace("ndcg", "nDCG").replace("mrr", "MRR"), justify="right")
        table.add_column("p50 ms", justify="right")
        table.add_column("p95 ms", justify="right")
        for mode in result.modes:
            cells = []
            for metric in METRICS:
                value = f"{mode.metrics[metric]:.3f}"
                if mode.p_values.get(metric, 1.0) < 0.05:
                    value += "†"
                cells.append(value)
            name = f"{mode.mode} ★" if mode.mode == result.best_mode else mode.mode
            table.add_row(name, *cells, f"{mode.latency_p50_ms:.1f}", f"{mode.latency_p95_ms:.1f}")
        console.print(table)
        console.print(
            f"★ best nDCG@10; † differs from ★ with p < 0.05 (paired t-test). "
            f"Index: {result.passages:,} passages, built in {result.build_seconds:.1f} s "
            f"({result.passages_per_second:.0f} passages/s){' [cached]' if result.index_cached else ''}. "
            f"Peak memory {result.peak_memory_mb:,.0f} MB. Model {result.model}.",
            style="dim",
            markup=False,
        )
        if result.dataset == "seeds":
            extra = Table(title="seeds · answering", title_justify="left")
            extra.add_column("mode")
            for label in _SEED_MEASURES.values():
                extra.add_column(label, justify="right")
            for mode in result.modes:
                extra.add_row(mode.mode, *(f"{mode.seeds[key]:.2f}" if key in mode.seeds else "–" for key in _SEED_MEASURES))
            console.print(extra)
        if result.modes and result.modes[0].by_question_word:
            _print_answering(console, result)
        if result.modes and result.modes[0].abstention_curve:
            _print_curve(console, result)
        console.print()


_ANSWER_MEASURES = {
    "questions": "n",
    "answer_contains_gold": "has gold",
    "first_sentence_contains_gold": "1st has gold",
    "abstained_answerable": "refused",
    "unanswerable_questions": "n unans.",
    "abstained_unanswerable": "abstained",
}


def _print_answering(console, result: BenchResult) -> None:
    from rich.table import Table

    for mode in result.modes:
        table = Table(title=f"{result.dataset} · answering · {mode.mode}", title_justify="left",
                      caption="answerable: answer / first sentence has a gold answer, refused wrongly; unanswerable: abstained",
                      caption_justify="left")
        table.add_column("word")
        for label in _ANSWER_MEASURES.values():
            table.add_column(label, justify="right")
        for word, measures in [("all", mode.seeds), *mode.by_question_word.items()]:
            table.add_row(word, *(_cell(key, measures[key]) for key in _ANSWER_MEASURES))
        console.print(table)


def _cell(key: str, value: float) -> str:
    if math.isnan(value):
        return "–"
    return f"{value:.0f}" if key.endswith("questions") else f"{value:.3f}"


FALSE_ABSTENTION_TARGETS = (0.01, 0.03, 0.05, 0.10, 0.20)


def _print_curve(console, result: BenchResult) -> None:
    """Abstention at the bot's threshold and at the thresholds that keep false abstention under each target."""
    from rich.table import Table

    from qa.eval.squad import CurvePoint, best_within

    for mode in result.modes:
        curve = [CurvePoint(**point) for point in mode.abstention_curve]
        table = Table(title=f"{result.dataset} · abstention against its threshold · {mode.mode}", title_justify="left",
                      caption="false: answerable questions abstained on; near-miss: unanswerable questions about indexed articles; "
                              "off-topic: questions of articles not indexed", caption_justify="left")
        for column in ("threshold", "false", "near-miss", "off-topic"):
            table.add_column(column, justify="right")
        point = next((p for p in curve if p.threshold == mode.operating_point), None)
        if point is not None:
            table.add_row(f"{mode.operating_point:.3f} (the bot's)", *(_cell("rate", v) for v in (point.false_abstention, point.near_miss, point.off_topic)))
        for target in FALSE_ABSTENTION_TARGETS:
            best = best_within(curve, target)
            if best is not None:
                table.add_row(f"{best.threshold:.3f} (false ≤ {target:.0%})",
                              *(_cell("rate", v) for v in (best.false_abstention, best.near_miss, best.off_topic)))
        console.print(table)
