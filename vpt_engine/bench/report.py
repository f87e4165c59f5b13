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
GOAL_MARGIN = 0.01   # auto must not be more than 1 point below the best fixed start


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


BASELINE_LABELS = {"linear": "linear probe", "linear_wide": "linear probe, pooled + mean patch",
                   "linear_max": "linear probe, block maxima",
                   "class_mean": "nearest class mean", "full": "full fine-tuning"}


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
            labels[name] = BASELINE_LABELS[name]
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
    parts = name.split("-", 3)
    if len(parts) == 4:
        return parts[1], parts[2], parts[3]
    return "", "", name.split("-", 1)[-1]   # a named variant, "vpt-<name>"


def _mean(values: list[float]) -> float:
    return float(statistics.fmean(values)) if values else float("nan")


def _std(values: list[float]) -> float:
    return float(statistics.stdev(values)) if len(values) > 1 else 0.0


# -- paired comparisons and the rule that decides them ------------------------------
# One-sided 95% Student t quantiles by degrees of freedom (n seeds - 1); beyond the table, the normal 1.645.
_T95 = {1: 6.314, 2: 2.920, 3: 2.353, 4: 2.132, 5: 2.015, 6: 1.943, 7: 1.895, 8: 1.860, 9: 1.833, 10: 1.812,
        12: 1.782, 15: 1.753, 20: 1.725, 30: 1.697}
DECISION_RULE = ("a goal 'A is at least B + m' is MET when the one-sided 95% lower confidence bound of the mean "
                 "paired difference A - B over seeds (Student t with n - 1 degrees of freedom) is at least m; "
                 "NOT SHOWN when the mean difference reaches m but its bound does not; MISSED when the mean "
                 "difference is below m")


def t95(degrees: int) -> float:
    if degrees < 1:
        return float("inf")
    known = [d for d in sorted(_T95) if d <= degrees]
    return _T95[known[-1]] if degrees <= 30 else 1.645


def paired_verdict(a: list[float], b: list[float], margin: float) -> dict[str, Any]:
    """The rule of ``DECISION_RULE`` for paired values (same seeds) and a margin (0.03 = 3 points)."""
    differences = [x - y for x, y in zip(a, b)]
    n = len(differences)
    mean, spread = _mean(differences), _std(differences)
    bound = mean - t95(n - 1) * spread / n ** 0.5 if n > 1 else float("-inf")
    verdict = "met" if bound >= margin else ("not shown" if mean >= margin else "missed")
    return {"mean": mean, "std": spread, "n": n, "lower_bound_95": bound, "margin": margin, "verdict": verdict,
            "min": min(differences) if differences else float("nan"),
            "max": max(differences) if differences else float("nan")}


def compare_methods(cells: list[dict[str, Any]], method: str, reference: str, margin: float,
                    seeds: Iterable[int] | None = None) -> list[dict[str, Any]]:
    """Per shot count and metric: ``method`` against ``reference`` on the seeds both finished."""
    done = [c for c in cells if c.get("status") == "done" and (seeds is None or c["seed"] in set(seeds))]
    out = []
    for shots in sorted({c["shots"] for c in done}):
        table = _by_seed([c for c in done if c["shots"] == shots], [method, reference])
        if not table:
            continue
        entry = {"shots": shots, "method": method, "reference": reference, "seeds": list(table)}
        for metric in METRICS:
            values = [table[s][method][metric] for s in table]
            reference_values = [table[s][reference][metric] for s in table]
            entry[metric] = {"method_mean": _mean(values), "reference_mean": _mean(reference_values),
                             **paired_verdict(values, reference_values, margin)}
        out.append(entry)
    return out


def auto_comparison(cells: list[dict[str, Any]], seeds: Iterable[int] | None = None) -> list[dict[str, Any]]:
    """Per shots and auto method: paired differences to the best fixed start and to the linear probe.

    When auto chose the engine's default start in every seed, comparing it with that fixed start compares
    a method with itself: the entry says so and carries no verdict.
    """
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
    chosen = [_chosen(table[s][auto]) for s in seeds]
    result: dict[str, Any] = {"shots": shots, "auto": auto, "seeds": seeds, "chosen": chosen}
    for metric in METRICS:
        means = {m: _mean([table[s][m][metric] for s in seeds]) for m in fixed}
        best = max(fixed, key=means.get)
        auto_values = [table[s][auto][metric] for s in seeds]
        entry = {"auto_mean": _mean(auto_values), "best_fixed": best, "best_fixed_mean": means[best]}
        if all(choice == _fixed_name(best) for choice in chosen):
            entry["same_as_best_fixed"] = True   # auto kept that start in every seed: a method against itself
        else:
            entry["auto_minus_best_fixed"] = paired_verdict(auto_values, [table[s][best][metric] for s in seeds],
                                                            -GOAL_MARGIN)
        if "linear" in table[seeds[0]]:
            linear = [table[s]["linear"][metric] for s in seeds]
            entry.update(linear_mean=_mean(linear), auto_minus_linear=paired_verdict(auto_values, linear, 0.0))
        result[metric] = entry
    return result


def _chosen(cell: dict[str, Any]) -> str:
    config = cell.get("prompt_config", {})
    return f"{config.get('init', '?')}/P={config.get('num_prompts', '?')}"


def _fixed_name(method: str) -> str:
    _, _, prompts, init = method.split("-", 3)
    return f"{init}/P={prompts}"


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
            text = f"{comparison['shots']}-shot {METRIC_TITLES[metric].lower()}: auto {entry['auto_mean'] * 100:.1f}"
            if entry.get("same_as_best_fixed"):
                text += (f"; auto chose the best fixed start ({entry['best_fixed']}) in every seed, so comparing "
                         "them compares a method with itself: no result")
            else:
                text += (f" vs best fixed ({entry['best_fixed']}) {entry['best_fixed_mean'] * 100:.1f}: "
                         f"{format_verdict(entry['auto_minus_best_fixed'])}")
            if "linear_mean" in entry:
                text += (f"; vs linear probe {entry['linear_mean'] * 100:.1f}: "
                         f"{format_verdict(entry['auto_minus_linear'])}")
            lines.append(text + f" (seeds {comparison['seeds']})")
        lines.append(f"  chosen per seed: {', '.join(comparison['chosen'])}")
    return "\n".join(lines)


def format_verdict(row: dict[str, Any]) -> str:
    return (f"paired difference {row['mean'] * 100:+.1f} ± {row['std'] * 100:.1f} points over {row['n']} seeds, "
            f"95% lower bound {row['lower_bound_95'] * 100:+.1f} [goal >= {row['margin'] * 100:+.0f}: "
            f"{row['verdict'].upper()}]")


def exclusions(cells: list[dict[str, Any]]) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for cell in cells:
        if cell.get("excluded_classes"):
            out.setdefault(f"{cell['shots']}-shot", {}).update(cell["excluded_classes"])
    return out


def plot_summary(rows: list[SummaryRow], path: str | Path, title: str = "", chance: float | None = None) -> Path:
    """One panel per metric; groups of bars per shot count, one bar (mean ± std) per method.

    ``chance`` (e.g. 1 / number of classes) is drawn as a dashed line: the balanced accuracy of guessing.
    """
    from ..charts import bar_panel, compose, save_png

    methods = sorted({r.method for r in rows}, key=method_order)
    labels = {r.method: r.label for r in rows}
    shots = sorted({r.shots for r in rows})
    by_key = {(r.shots, r.method): r for r in rows}
    panels = []
    for metric in METRICS:
        groups = [[(by_key[(k, m)].mean(metric), by_key[(k, m)].std(metric)) if (k, m) in by_key else None
                   for m in methods] for k in shots]
        panels.append(bar_panel(groups, [f"{k}-shot" for k in shots], METRIC_TITLES[metric] + " (%)", chance))
    return save_png(compose(panels, [labels[m] for m in methods], title), path)


def write_report(out_dir: str | Path, cells: list[dict[str, Any]], settings: dict[str, Any],
                 seeds: Iterable[int] | None = None, stem: str = "results") -> dict[str, Path]:
    """``<stem>.md`` (tables), ``<stem>.json`` and ``<stem>.png`` in ``out_dir``."""
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
        parts += ["", "## auto against the fixed strategies (paired over seeds)", "", f"Rule: {DECISION_RULE}.", "",
                  format_auto_comparison(comparisons)]
    if excluded:
        parts += ["", "## Classes left out (fewer than k+1 images)", ""]
        parts += [f"- {shots}: {', '.join(f'{c} ({n})' for c, n in classes.items())}"
                  for shots, classes in excluded.items()]
    return "\n".join(parts) + "\n"
