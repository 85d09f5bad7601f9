"""Seeds of one experiment, summarised honestly: mean, sample std, n.

Used by `python -m experiments report` (the README's tables), the app and the
HTML export, so every figure shown anywhere is computed the same way from the
run records.
"""
from __future__ import annotations

import statistics
from collections import defaultdict
from pathlib import Path

from core.records import Run, config_hash, list_runs, record_words
from core.text import text


def _mean_std(values):
    if not values:
        return None, None
    mean = statistics.fmean(values)
    # One seed has no spread: None, shown as "–" (a zero would be a claim).
    std = statistics.stdev(values) if len(values) > 1 else None
    return mean, std


def metric_of(cfg: dict) -> tuple[str, str]:
    """Where the figure a row compares is in summary.json: test accuracy,
    unless a study of one's own chose another (core/own.py: METRICS)."""
    from core.own import DEFAULT_METRIC, METRICS
    return METRICS.get((cfg.get("study") or {}).get("metric") or DEFAULT_METRIC, METRICS[DEFAULT_METRIC])


def _figure_of(summary: dict, where: tuple[str, str]):
    value = (summary.get(where[0]) or {}).get(where[1])
    return value if isinstance(value, (int, float)) else None


def _row(name: str, label: str, cfg: dict, runs: list[Run], origin: str) -> dict:
    # Read each record once: Run's properties go to disk on every access.
    checked = [(r, *r.check()) for r in runs]
    where = metric_of(cfg)
    # A finished run without the figure compared (a run of one's own whose
    # test set was never evaluated) is left out of the figures, and says so.
    lacking = [r for r, status, _ in checked if status == "done" and _figure_of(r.summary or {}, where) is None]
    done_runs = [r for r, status, _ in checked if status == "done" and r not in lacking]
    done = [(r.summary, r.meta, r.config) for r in done_runs]
    accs = [_figure_of(s, where) for s, _, _ in done]
    secs = [s["seconds_per_epoch_median"] for s, _, _ in done if s.get("seconds_per_epoch_median")]
    mean, std = _mean_std(accs)
    devices = sorted({m["device"].get("device", "?") + " / " + m["device"].get("cpu", "")
                      for _, m, _ in done if m.get("device")})
    first = done[0][0] if done else {}
    return {
        "experiment": label, "declared": name, "origin": origin,
        "title": cfg.get("title", ""), "title_zh": cfg.get("title_zh", cfg.get("title", "")),
        "group": cfg.get("group", ""),
        "model": cfg["model"]["name"], "epochs": cfg["train"]["epochs"],
        "reference": (cfg.get("reference") or {}).get("test_accuracy") if origin == "study" else None,
        "n_done": len(done), "n_runs": len(runs),
        "seeds": sorted(c.get("seed") for _, _, c in done),
        "test_acc_mean": mean, "test_acc_std": std,
        "test_acc_min": min(accs) if accs else None, "test_acc_max": max(accs) if accs else None,
        "epochs_run_mean": statistics.fmean(s["epochs_run"] for s, _, _ in done) if done else None,
        "sec_per_epoch": statistics.fmean(secs) if secs else None,
        "n_train": first.get("n_train"), "n_val": first.get("n_val"), "params": first.get("params"),
        "devices": devices,
        "commits": sorted({((m.get("git") or {}).get("commit") or "")[:7] for _, m, _ in done}),
        "run_paths": [str(r.path) for r in done_runs],
        # Runs left out of every figure: a record file is damaged, or a run
        # lacks the figure compared. (run, content key, values): the reason
        # in any language (RecordError.words).
        "unreadable": [(r.ref, e.key, e.values) for r, _, e in checked if e]
        + [(r.ref, "no-figure", {"figure": ".".join(where)}) for r in lacking],
    }


def experiment_rows(root=None, experiments: dict | None = None, include_app: bool = False,
                    lang: str = "en") -> list[dict]:
    """One row per declared experiment: the runs whose config matches the
    current declaration (an old run of a since-changed config never mixes in).

    With include_app, runs users started from the app follow their experiment's
    row, one row per distinct config, labelled "<experiment> (yours…)"."""
    if experiments is None:
        from core.study import experiments as every
        experiments = every()
    by_exp: dict[str, list[Run]] = defaultdict(list)
    for run in list_runs(root):
        by_exp[run.experiment].append(run)
    rows = []
    for name, get in experiments.items():
        cfg = get(False)
        want = config_hash({**cfg, "seed": 0})
        runs = by_exp.get(name, [])
        rows.append(_row(name, name, cfg, [r for r in runs if r.id.endswith("-" + want)], "study"))
        if not include_app:
            continue
        mine: dict[str, list[Run]] = defaultdict(list)
        for r in runs:
            if r.origin == "app":
                mine[r.id.split("-", 1)[1]].append(r)
        for h, group in sorted(mine.items()):
            their = group[0].config
            epochs = their.get("train", {}).get("epochs")
            parts = [text(lang, "common.yours")]
            if epochs != cfg["train"]["epochs"]:
                parts.append(text(lang, "common.n-epochs", n=epochs))
            if sum(1 for g in mine.values() if g[0].config["train"]["epochs"] == epochs) > 1:
                parts.append(h)
            label = f"{name} ({text(lang, 'common.list-sep').join(parts)})"
            rows.append(_row(name, label, their, group, "app"))
    return rows


def with_model_file(run: Run) -> bool:
    return (run.path / "model.keras").is_file()


def declared_runs(experiment: str, root=None, experiments: dict | None = None, keep=None) -> list[Run]:
    """The finished runs of an experiment's current declaration (as
    experiment_rows counts them; `experiments` defaults to every study's),
    those `keep(run)` accepts: e.g. with_model_file, an ensemble's members."""
    if experiments is None:
        from core import study
        experiments = study.experiments()
    [row] = experiment_rows(root, {experiment: experiments[experiment]})
    runs = [Run(Path(p)) for p in row["run_paths"]]
    return [r for r in runs if keep is None or keep(r)]


def left_out(rows: list[dict], lang: str = "en") -> list[tuple[str, str]]:
    """(run, why in `lang`) for every run the rows' figures leave out as unreadable."""
    seen = {ref: record_words(lang, key, values)
            for r in rows for ref, key, values in r.get("unreadable", ())}
    return sorted(seen.items())


def left_out_note(rows: list[dict], lang: str = "en") -> str | None:
    """One line saying how many runs the figures leave out and why, or None."""
    out = left_out(rows, lang)
    if not out:
        return None
    sep = text(lang, "common.list-sep")
    return text(lang, "common.left-out", n=len(out),
                runs=sep.join(text(lang, "common.left-out-run", run=ref, why=why) for ref, why in out))


def pct(x, digits=2):
    return "–" if x is None else f"{100 * x:.{digits}f}"


def seeds_words(lang: str, n: int) -> str:
    return text(lang, "common.one-seed") if n == 1 else text(lang, "common.n-seeds", n=n)


def figure(mean, std, n: int, lang: str = "en", count: bool = True, digits: int = 2) -> str:
    """A mean over seeds as every table and chart writes it (fractions in,
    percent out): "95.41 ± 0.07 (3 seeds)". One seed has no spread: "91.37 ±
    – (1 seed)". Without `count` for a table whose seeds column is beside it."""
    if mean is None:
        return "–"
    spread = "–" if std is None or n < 2 else f"{100 * std:.{digits}f}"
    out = f"{100 * mean:.{digits}f} ± {spread}"
    return f"{out} ({seeds_words(lang, n)})" if count else out


def accuracy_points(rows: list[dict], lang: str = "en", reference: bool = True):
    """The finished rows as an accuracy dot chart draws them (core/charts.py:
    accuracy_bars), in percent; `std` is NaN where one seed has none."""
    import pandas as pd
    return pd.DataFrame([{
        "experiment": r["experiment"], "title": r["title_zh" if lang == "zh" else "title"],
        "mean": 100 * r["test_acc_mean"],
        "std": float("nan") if r["test_acc_std"] is None else 100 * r["test_acc_std"],
        "seeds": r["n_done"],
        **({"seed": None if r["reference"] is None else 100 * r["reference"]} if reference else {}),
        "train / val": _sizes(r), "epochs": r["epochs"],
    } for r in rows])


def _sizes(r: dict) -> str:
    """"54,000 / 6,000", "–" where a run of one's own did not say."""
    n = [r.get("n_train"), r.get("n_val")]
    return " / ".join("–" if v is None else f"{v:,}" for v in n)


def markdown_table(rows: list[dict]) -> str:
    head = ("| experiment | train / val | epochs (run) | seed's test acc. | ours: test acc. mean ± std (seeds) "
            "| min – max | s / epoch | machine |\n|---|---|---|---|---|---|---|---|")
    lines = [head]
    for r in rows:
        if not r["n_done"]:
            continue
        ours = figure(r["test_acc_mean"], r["test_acc_std"], r["n_done"])
        secs = "–" if r["sec_per_epoch"] is None else f"{r['sec_per_epoch']:.1f}"
        lines.append(
            f"| `{r['experiment']}` | {_sizes(r)} | {r['epochs']} "
            f"({r['epochs_run_mean']:.1f}) | {pct(r['reference']) if r['reference'] else '–'} "
            f"| {ours} | {pct(r['test_acc_min'])} – {pct(r['test_acc_max'])} "
            f"| {secs} | {'; '.join(r['devices'])} |")
    return "\n".join(lines)
