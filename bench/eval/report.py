"""What an eval run prints and writes: the table per set (held-out apart), a line for every
turn that was not RIGHT, ``bench/results/eval-latest.json`` (+ a timestamped copy) and
``bench/results/eval.png``."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.eval.score import (
    FALSE_TRANSFER,
    MISSED,
    RIGHT,
    SILENT,
    VERDICTS,
    WRONG,
    YES_TO_UNKNOWN,
    Summary,
    Verdict,
    percentile,
    summarise,
)

COLOURS = {
    RIGHT: "#3a3",
    WRONG: "#d33",
    YES_TO_UNKNOWN: "#808",
    MISSED: "#e90",
    SILENT: "#999",
}


@dataclass
class TurnRow:
    """One scored turn, as it goes into the JSON."""

    set: str
    heldout: bool
    call: int
    voice: str
    turn: int
    kind: str
    say: str
    expect: list[str]
    allow: list[str]
    heard: str
    verdict: str
    offending: list[str]
    missing: list[str]
    note: str
    latency_ms: float | None
    reply_cut: bool
    talking_at_question_end: bool
    bot_hung_up: bool

    @property
    def as_verdict(self) -> Verdict:
        return Verdict(self.verdict, tuple(self.offending), tuple(self.missing), self.note)


def summary_of(rows: Sequence[TurnRow]) -> Summary:
    return summarise([r.as_verdict for r in rows], [r.latency_ms for r in rows])


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


HEADER = (
    f"{'set':<24} {'turns':>5} {'right':>6} {'wrong (facts)':>13} {'yes-unk':>7} "
    f"{'missed':>6} {'silent':>6} {'p50 ms':>7} {'p95 ms':>7}"
)


def table_line(name: str, s: Summary) -> str:
    c = s.counts
    wrong = f"{c.get(WRONG, 0)} ({s.wrong_facts})"
    return (
        f"{name:<24} {s.turns:>5} {s.right_pct:>5.0f}% {wrong:>13} "
        f"{c.get(YES_TO_UNKNOWN, 0):>7} {c.get(MISSED, 0):>6} {c.get(SILENT, 0):>6} "
        f"{_ms(s.latency_p50_ms):>7} {_ms(s.latency_p95_ms):>7}"
    )


def table(rows: Sequence[TurnRow]) -> str:
    """Tuned sets (and their total), then the held-out sets apart."""
    out = [HEADER, "-" * len(HEADER)]
    tuned = [r for r in rows if not r.heldout]
    heldout = [r for r in rows if r.heldout]
    for name in dict.fromkeys(r.set for r in tuned):
        out.append(table_line(name, summary_of([r for r in tuned if r.set == name])))
    if len({r.set for r in tuned}) > 1:
        out.append(table_line("all tuned sets", summary_of(tuned)))
    if heldout:
        out.append("held-out (never tuned on):")
        for name in dict.fromkeys(r.set for r in heldout):
            out.append(table_line(name, summary_of([r for r in heldout if r.set == name])))
    return "\n".join(out)


def kinds_table(rows: Sequence[TurnRow]) -> str:
    """Right per turn kind, tuned and held-out apart: where the misses come from."""
    out = []
    for label, part in (
        ("tuned", [r for r in rows if not r.heldout]),
        ("held-out", [r for r in rows if r.heldout]),
    ):
        if not part:
            continue
        cells = []
        for kind in dict.fromkeys(r.kind for r in part):
            of_kind = [r for r in part if r.kind == kind]
            right = sum(r.verdict == RIGHT for r in of_kind)
            cells.append(f"{kind} {right}/{len(of_kind)}")
        false_transfers = sum(r.note == FALSE_TRANSFER for r in part)
        cells.append(f"false transfers {false_transfers}/{sum(r.kind != 'person' for r in part)}")
        out.append(f"right by kind ({label}): " + ", ".join(cells))
    return "\n".join(out)


def problem_lines(rows: Sequence[TurnRow]) -> str:
    """Said / heard / verdict of every turn that was not RIGHT."""
    out = []
    for r in rows:
        if r.verdict == RIGHT:
            continue
        detail = []
        if r.offending:
            detail.append("wrong: " + ", ".join(r.offending))
        if r.missing:
            detail.append("missing: " + ", ".join(r.missing))
        if r.note:
            detail.append(r.note)
        if r.reply_cut:
            detail.append("reply cut by the next question")
        out.append(
            f"[{r.set} call {r.call} turn {r.turn} {r.kind} {r.voice}] {r.verdict}"
            + (f" ({'; '.join(detail)})" if detail else "")
            + f"\n    said:  {r.say}\n    heard: {r.heard or '(nothing)'}"
        )
    return "\n".join(out)


def write_json(result: dict, results: Path) -> tuple[Path, Path]:
    """``eval-latest.json`` and a timestamped copy beside it."""
    results.mkdir(parents=True, exist_ok=True)
    text = json.dumps(result, indent=2)
    latest = results / "eval-latest.json"
    stamped = results / f"eval-{time.strftime('%Y%m%d-%H%M%S')}.json"
    latest.write_text(text)
    stamped.write_text(text)
    return latest, stamped


def plot(rows: Sequence[TurnRow], out: Path) -> Path:
    """Verdict shares per set (left) and latency per set (right), held-out sets marked."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(dict.fromkeys(r.set for r in rows))
    labels = [
        n + (" (held-out)" if any(r.heldout for r in rows if r.set == n) else "") for n in names
    ]
    fig, (ax, lat) = plt.subplots(1, 2, figsize=(11, 2.0 + 0.5 * len(names)))
    for i, name in enumerate(names):
        part = [r for r in rows if r.set == name]
        left = 0.0
        for verdict in VERDICTS:
            share = 100.0 * sum(r.verdict == verdict for r in part) / len(part)
            ax.barh(i, share, left=left, color=COLOURS[verdict], label=verdict if i == 0 else None)
            if share >= 8:
                ax.text(
                    left + share / 2,
                    i,
                    f"{share:.0f}",
                    ha="center",
                    va="center",
                    fontsize=8,
                    color="w",
                )
            left += share
    ax.set_yticks(range(len(names)), labels)
    ax.invert_yaxis()
    ax.set_xlim(0, 100)
    ax.set_xlabel("% of turns")
    ax.set_title("Verdicts per set")
    fig.legend(*ax.get_legend_handles_labels(), loc="lower left", ncols=len(VERDICTS), fontsize=7)
    for i, name in enumerate(names):
        values = sorted(r.latency_ms for r in rows if r.set == name and r.latency_ms is not None)
        if not values:
            continue
        lat.plot(values, [i] * len(values), "|", color="#47a", alpha=0.6, ms=12)
        p50, p95 = percentile(values, 50), percentile(values, 95)
        lat.plot([p50], [i], "o", color="k", label="p50" if i == 0 else None)
        lat.plot([p95], [i], "D", color="#d33", label="p95" if i == 0 else None)
    lat.set_yticks(range(len(names)), labels)
    lat.set_ylim(len(names) - 0.5, -0.5)
    lat.legend(fontsize=7)
    lat.set_xlabel("end of question -> first reply audio at the caller (ms)")
    lat.set_title("Turn latency per set")
    lat.grid(alpha=0.3, axis="x")
    fig.tight_layout(rect=(0, 0.1, 1, 1))
    fig.savefig(out, dpi=120)
    plt.close(fig)
    return out
