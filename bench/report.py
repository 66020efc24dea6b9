"""The results as a terminal table, as Markdown for BENCHMARKS.md, and as JSON."""

from __future__ import annotations

import json
from pathlib import Path

RESULT_COLUMNS = ("malloc", "workload", "case", "engine", "time", "rate", "vs", "status")
TARGET_COLUMNS = ("malloc", "target", "measured", "result", "note")


def _seconds(s: float | None) -> str:
    if s is None:
        return "-"
    return f"{s * 1e6:.0f} us" if s < 1e-3 else f"{s * 1e3:.2f} ms" if s < 1 else f"{s:.2f} s"


def _rate(metrics: dict) -> str:
    if "nodes/s" in metrics:
        return f"{metrics['nodes/s'] / 1e6:.2f} M nodes/s ({metrics['nodes']:,} nodes)"
    if "GFLOP/s" in metrics:
        return f"{metrics['GFLOP/s']:.1f} GFLOP/s, {metrics['page faults/step']} faults"
    if "page faults/step" in metrics:
        return f"{metrics['page faults/step']} faults"
    if "us/link" in metrics:
        return f"{metrics['us/link']:.2f} us/link"
    if "peak MB" in metrics:
        return f"peak {metrics['peak MB']:.1f} MB, training {metrics['training MB']:.1f} MB"
    return ""


def _status(r: dict) -> str:
    if r["status"] == "ok":
        return r["note"]
    return f"{r['status']}: {r['note']}" if r["note"] else r["status"]


def result_rows(runs: list) -> list:
    rows = []
    for run in runs:
        for r in run["results"]:
            vs = ", ".join(f"{ratio:.2f}x {base}" for base, ratio in r["ratios"].items())
            rows.append((run["malloc"], r["workload"], r["case"], r["engine"], _seconds(r["seconds"]),
                         _rate(r["metrics"]), vs, _status(r)))
    return rows


def target_rows(runs: list) -> list:
    verdict = {True: "PASS", False: "FAIL", None: "not run"}
    return [(run["malloc"], t["name"], t["measured"], verdict[t["passed"]], t["note"])
            for run in runs for t in run["targets"]]


def text_table(header: tuple, rows: list) -> str:
    widths = [max(len(str(c)) for c in column) for column in zip(header, *rows)]
    line = lambda cells: "  ".join(str(c).ljust(w) for c, w in zip(cells, widths)).rstrip()
    return "\n".join([line(header), line("-" * w for w in widths)] + [line(r) for r in rows])


def markdown_table(header: tuple, rows: list) -> str:
    line = lambda cells: "| " + " | ".join(str(c).replace("|", "\\|") for c in cells) + " |"
    return "\n".join([line(header), line("---" for _ in header)] + [line(r) for r in rows])


def machine_lines(machine: dict, warning: str | None = None) -> list:
    m = machine
    return ([f"WARNING: {warning}"] if warning else []) + [
        f"date {m['date']}; {m['nproc']} CPUs ({m['cpus_usable']} usable), {m['cpu']}; "
        f"load {m['loadavg'] if m['loadavg'] is None else round(m['loadavg'], 2)}",
        f"python {m['python']}, numpy {m['numpy']}, torch {m['torch']}, micrograd {m['micrograd']}, "
        f"chainrule {m['chainrule']}; {m['libc']}",
        f"BLAS: {m['blas']}; BLAS threads {m['blas_threads']} (torch set to the same)",
        f"BLAS kernel in use: {m.get('blas_kernel') or 'unknown (install threadpoolctl)'}; "
        f"OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE: {m.get('openblas_env', '?')}",
    ]


def notes_lines(runs: list) -> list:
    return [f"[{run['malloc']}] " + ", ".join(f"{k} {v}" for k, v in run["notes"].items())
            for run in runs if run["notes"]]


def text(report: dict) -> str:
    runs = report["runs"]
    parts = machine_lines(report["machine"], report.get("warning")) + notes_lines(runs)
    parts += ["", text_table(RESULT_COLUMNS, result_rows(runs)), "", text_table(TARGET_COLUMNS, target_rows(runs))]
    return "\n".join(parts)


def markdown(report: dict, command: str) -> str:
    runs = report["runs"]
    facts = machine_lines(report["machine"], report.get("warning")) + notes_lines(runs)
    return "\n".join([
        "# Benchmarks", "",
        f"Latest run of `{command}` (see `python -m bench --help`; `make bench` runs the default sizes).",
        "Times are medians of interleaved rounds; `vs` is the median of per-round time ratios "
        "(below 1 is faster). `malloc tuned` sets "
        + ", ".join(f"`{k}={v}`" for k, v in report["tuned_env"].items()) + ".", "",
        "## Machine", "", *[f"- {line}" for line in facts], "",
        "## Targets", "", markdown_table(TARGET_COLUMNS, target_rows(runs)), "",
        "## Results", "", markdown_table(RESULT_COLUMNS, result_rows(runs)), "",
    ])


NOTES_MARKER = "<!-- Written by hand below this line; `python -m bench --record` keeps it. -->"


def kept_notes(existing: str) -> str:
    """The hand-written part of an existing BENCHMARKS.md (from the marker on), or a fresh marker."""
    at = existing.find(NOTES_MARKER)
    return "\n" + (existing[at:] if at >= 0 else NOTES_MARKER + "\n")


def write_json(report: dict, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=1) + "\n")
