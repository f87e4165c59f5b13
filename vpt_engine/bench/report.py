"""Benchmark cells -> mean and standard deviation per (shots, method): table, JSON, plot.

Standard deviations are sample standard deviations (ddof=1) over seeds; a cell
measured on a single seed shows 0. The ``auto`` comparison is paired: only seeds
where auto, every fixed initialisation and the linear probe all finished count.
"""

from __future__ import annotations

import statistics
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Iterable

from vpt_core.atomicio import atomic_write_json, atomic_write_text
from .config import AUTO, FIXED_INITS, Baseline

METRICS = ("accuracy", "balanced_accuracy")
METRIC_TITLES = {"accuracy": "Accuracy", "balanced_accuracy": "Balanced accuracy"}
GOAL_MARGIN = 0.01   # issue 6: auto >= best fixed strategy - 1 point


@dataclass
class SummaryRow:
    shots: int
    method: str
    label: str
    seeds: list[int]
    accuracy_mean: float
    accuracy_std: float
    balanced_accuracy_mean: float
    balanced_accuracy_std: float
    wall_seconds_mean: float

    def mean(self, metric: str) -> float:
        return getattr(self, f"{metric}_mean")

    def std(self, metric: str) -> float:
        return getattr(self, f"{metric}_std")


def summarise(cells: Iterable[dict[str, Any]], seeds: Iterable[int] | None = None) -> list[SummaryRow]:
    wanted = None if seeds is None else set(seeds)
    groups: dict[tuple[int, str], list[dict]] = {}
    for cell in cells:
        if cell.get("status") == "done" and (wanted is None or cell["seed"] in wanted):
            groups.setdefault((cell["shots"], cell["method"]), []).append(cell)
    names = sorted({method for _, method in groups}, key=method_order)
    labels = method_labels(names)
    rows = []
    for (shots, method), members in sorted(groups.items(), key=lambda item: (item[0][0], method_order(item[0][1]))):
        members.sort(key=lambda c: c["seed"])
        values = {m: [c[m] for c in members] for m in METRICS}
        rows.append(SummaryRow(shots, method, labels[method], [c["seed"] for c in members],
                               _mean(values["accuracy"]), _std(values["accuracy"]),
                               _mean(values["balanced_accuracy"]), _std(values["balanced_accuracy"]),
                               _mean([c.get("wall_seconds", 0.0) for c in members])))
    return rows


def method_order(name: str) -> tuple:
    baselines = [b.value for b in Baseline]
    if name in baselines:
        return (0, baselines.index(name))
    depth, prompts, init = _vpt_parts(name)
    init_rank = FIXED_INITS.index(init) if init in FIXED_INITS else len(FIXED_INITS)
    return (1, depth, prompts == AUTO, str(prompts).zfill(6), init_rank)


def method_labels(names: list[str]) -> dict[str, str]:
    """Short labels: the parts that do not vary between the VPT methods shown are left out."""
    vpt = [_vpt_parts(n) for n in names if n not in {b.value for b in Baseline}]
    vary_depth = len({d for d, _, _ in vpt}) > 1
    vary_prompts = len({p for _, p, _ in vpt}) > 1
    labels = {}
    for name in names:
        if name in {b.value for b in Baseline}:
            labels[name] = {"linear": "linear probe", "class_mean": "nearest class mean",
                            "full": "full fine-tuning"}[name]
            continue
        depth, prompts, init = _vpt_parts(name)
        label = f"VPT {init}"
        if vary_prompts or prompts == AUTO:
            label += f" P={prompts}"
        if vary_depth:
            label += f" {depth}"
        labels[name] = label
    return labels


def _vpt_parts(name: str) -> tuple[str, str, str]:
    _, depth, prompts, init = name.split("-", 3)
    return depth, prompts, init


def _mean(values: list[float]) -> float:
    return float(statistics.fmean(values)) if values else float("nan")


def _std(values: list[float]) -> float:
    return float(statistics.stdev(values)) if len(values) > 1 else 0.0


# -- auto against the fixed strategies ---------------------------------------
def auto_comparison(cells: list[dict[str, Any]], seeds: Iterable[int] | None = None) -> list[dict[str, Any]]:
    """Per shots and auto method: paired differences to the best fixed initialisation and to the linear probe."""
    done = [c for c in cells if c.get("status") == "done" and (seeds is None or c["seed"] in set(seeds))]
    out = []
    for shots in sorted({c["shots"] for c in done}):
        at_shots = [c for c in done if c["shots"] == shots]
        fixed = sorted({c["method"] for c in at_shots if c["method"].startswith("vpt-") and AUTO not in c["method"]})
        for auto in sorted({c["method"] for c in at_shots if c["method"].startswith("vpt-") and AUTO in c["method"]}):
            compared = [auto, *fixed] + (["linear"] if any(c["method"] == "linear" for c in at_shots) else [])
            table = _by_seed(at_shots, compared)
            if not table or not fixed:
                continue
            out.append(_compare(shots, auto, fixed, table))
    return out


def _by_seed(cells, methods) -> dict[int, dict[str, dict]]:
    by_seed: dict[int, dict[str, dict]] = {}
    for cell in cells:
        if cell["method"] in methods:
            by_seed.setdefault(cell["seed"], {})[cell["method"]] = cell
    return {seed: row for seed, row in sorted(by_seed.items()) if len(row) == len(methods)}


def _compare(shots, auto, fixed, table) -> dict[str, Any]:
    seeds = list(table)
    result: dict[str, Any] = {"shots": shots, "auto": auto, "seeds": seeds}
    for metric in METRICS:
        means = {m: _mean([table[s][m][metric] for s in seeds]) for m in fixed}
        best = max(fixed, key=means.get)
        auto_values = [table[s][auto][metric] for s in seeds]
        entry = {"auto_mean": _mean(auto_values), "best_fixed": best, "best_fixed_mean": means[best],
                 "auto_minus_best_fixed": _paired(auto_values, [table[s][best][metric] for s in seeds]),
                 "goal_auto_at_least_best_minus_1pt": _mean(auto_values) >= means[best] - GOAL_MARGIN}
        if "linear" in table[seeds[0]]:
            linear = [table[s]["linear"][metric] for s in seeds]
            entry.update(linear_mean=_mean(linear), auto_minus_linear=_paired(auto_values, linear),
                         goal_auto_above_linear=_mean(auto_values) > _mean(linear))
        entry["chosen"] = [table[s][auto].get("prompt_config", {}).get("init", "?") + "/P="
                           + str(table[s][auto].get("prompt_config", {}).get("num_prompts", "?")) for s in seeds]
        result[metric] = entry
    return result


def _paired(a: list[float], b: list[float]) -> dict[str, float]:
    differences = [x - y for x, y in zip(a, b)]
    return {"mean": _mean(differences), "std": _std(differences), "min": min(differences), "max": max(differences)}


# -- text ----------------------------------------------------------------------
def format_tables(rows: list[SummaryRow], percent: bool = True) -> str:
    shots = sorted({r.shots for r in rows})
    methods = sorted({r.method for r in rows}, key=method_order)
    by_key = {(r.shots, r.method): r for r in rows}
    scale = 100.0 if percent else 1.0
    parts = []
    for metric in METRICS:
        header = f"| {METRIC_TITLES[metric]} (%, mean ± std over seeds) | " + " | ".join(f"{k}-shot" for k in shots)
        lines = [header + " |", "|---" * (len(shots) + 1) + "|"]
        for method in methods:
            label = next(r.label for r in rows if r.method == method)
            values = []
            for k in shots:
                row = by_key.get((k, method))
                values.append("–" if row is None else
                              f"{row.mean(metric) * scale:.1f} ± {row.std(metric) * scale:.1f} (n={len(row.seeds)})")
            lines.append(f"| {label} | " + " | ".join(values) + " |")
        parts.append("\n".join(lines))
    return "\n\n".join(parts)


def format_auto_comparison(comparisons: list[dict[str, Any]]) -> str:
    lines = []
    for comparison in comparisons:
        for metric in METRICS:
            entry = comparison[metric]
            text = (f"{comparison['shots']}-shot {METRIC_TITLES[metric].lower()}: auto {entry['auto_mean'] * 100:.1f} "
                    f"vs best fixed ({entry['best_fixed']}) {entry['best_fixed_mean'] * 100:.1f}: paired difference "
                    f"{_points(entry['auto_minus_best_fixed'])} "
                    f"[goal >= -1: {'met' if entry['goal_auto_at_least_best_minus_1pt'] else 'MISSED'}]")
            if "linear_mean" in entry:
                text += (f"; vs linear probe {entry['linear_mean'] * 100:.1f}: {_points(entry['auto_minus_linear'])} "
                         f"[goal > 0: {'met' if entry['goal_auto_above_linear'] else 'MISSED'}]")
            lines.append(text + f" (seeds {comparison['seeds']})")
        lines.append(f"  chosen per seed: {', '.join(comparison['accuracy']['chosen'])}")
    return "\n".join(lines)


def _points(difference: dict[str, float]) -> str:
    return f"{difference['mean'] * 100:+.1f} ± {difference['std'] * 100:.1f} points"


def exclusions(cells: list[dict[str, Any]]) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for cell in cells:
        if cell.get("excluded_classes"):
            out.setdefault(f"{cell['shots']}-shot", {}).update(cell["excluded_classes"])
    return out


def write_report(out_dir: str | Path, cells: list[dict[str, Any]], settings: dict[str, Any],
                 seeds: Iterable[int] | None = None, stem: str = "results") -> dict[str, Path]:
    """``<stem>.md`` (tables), ``<stem>.json`` and ``<stem>.png`` in ``out_dir``."""
    from .plot import plot_summary

    out_dir = Path(out_dir)
    seeds = None if seeds is None else sorted(seeds)
    rows = summarise(cells, seeds)
    comparisons = auto_comparison(cells, seeds)
    excluded = exclusions(cells)
    text = render_markdown(rows, comparisons, excluded, settings)
    document = {"settings": settings, "seeds": seeds, "rows": [asdict(r) for r in rows],
                "auto_comparison": comparisons, "excluded_classes": excluded,
                "skipped_cells": [c["key"] for c in cells if c.get("status") == "skipped"]}
    paths = {"markdown": atomic_write_text(out_dir / f"{stem}.md", text),
             "json": atomic_write_json(out_dir / f"{stem}.json", document)}
    if rows:
        class_counts = {len(c["classes"]) for c in cells if c.get("status") == "done" and c.get("classes")}
        chance = 1 / class_counts.pop() if len(class_counts) == 1 else None
        paths["png"] = plot_summary(rows, out_dir / f"{stem}.png", title=settings.get("title", ""), chance=chance)
    return paths


def render_markdown(rows, comparisons, excluded, settings) -> str:
    parts = [f"# {settings.get('title', 'Benchmark results')}", ""]
    for key, value in settings.items():
        if key != "title":
            parts.append(f"- {key}: {value}")
    parts += ["", format_tables(rows) if rows else "(no finished cells yet)"]
    if comparisons:
        parts += ["", "## auto against the fixed strategies (paired over seeds)", "", format_auto_comparison(comparisons)]
    if excluded:
        parts += ["", "## Classes left out (fewer than k+1 images)", ""]
        parts += [f"- {shots}: {', '.join(f'{c} ({n})' for c, n in classes.items())}"
                  for shots, classes in excluded.items()]
    return "\n".join(parts) + "\n"
