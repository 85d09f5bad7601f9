"""Blocks of the 50-class technique pages (seed 000), one page per technique.

Same block format as core.report (the app renders them, the HTML export
embeds them). Every figure comes from the run records; model tables and
parameter counts are generated from the Keras models themselves.
"""
from __future__ import annotations

import functools
import statistics
from pathlib import Path

import pandas as pd

from core.blocks import _v, local, tx
from core.report import accuracy_chart, curves_blocks, curves_chart
from core.results import accuracy_points, experiment_rows, figure
from core.verdict import compare
from experiments.caltech import configs as study

# Our explanation of each technique, how seed 000 ran it and, where our
# verdict differs from the seed's, why it may: content/<lang>/techniques.md
# (<technique>.text, <technique>.why, why-generic); the best-combination page's
# texts: content/<lang>/best.md.

# The seed's verdicts (its table of conclusions) as ours, to find where they differ.
SEED_WORD = {"up overall": "up", "slightly up overall": "up", "unchanged": "unchanged",
             "down overall": "down"}


from experiments.caltech.configs import SEED_SIZE  # noqa: E402 (its pages' parameter comparison)


def params_at(cfg: dict, size: int) -> int:
    from core import model_tables
    return model_tables.params(cfg["model"]["name"], cfg["model"].get("kwargs", {}), size)


def summary_table(cfg: dict, size: int) -> pd.DataFrame:
    from core import model_tables
    return pd.DataFrame(model_tables.table(cfg["model"]["name"], cfg["model"].get("kwargs", {}), size))


def technique_rows(technique: str, root=None, include_app: bool = True, lang: str = "en") -> list[dict]:
    names = ["c50-baseline", *study.variants_of(technique)]
    exps = {n: study.EXPERIMENTS[n] for n in names}
    return experiment_rows(root, exps, include_app=include_app, lang=lang)


def _delta_cells(c: dict | None) -> tuple:
    """(Δ, se) of a core.verdict.compare result in points, None where absent."""
    if not c:
        return None, None
    return tuple(None if c[k] is None else round(100 * c[k], 2) for k in ("diff", "se"))


def _name(lang: str, technique: str) -> str:
    """A technique's name (experiments/caltech/configs.py's TECHNIQUES) in `lang`."""
    en, zh = study.TECHNIQUES[technique][:2]
    return zh if lang == "zh" and zh else en


# The charts every study's page draws the same way (core/report.py).
_accuracy_chart, _curves_blocks, _curves_chart = accuracy_chart, curves_blocks, curves_chart


def technique_table(lang: str, technique: str, rows: list[dict]) -> pd.DataFrame:
    base = next((r for r in rows if r["experiment"] == "c50-baseline"), None)
    out = []
    for r in rows:
        cfg = study.EXPERIMENTS[r["declared"]](False)
        c = compare(r, base) if base is not None and r is not base else None
        sv = None
        if r["declared"] != "c50-baseline":
            claim = next((x for x in study.CLAIMS if x["id"] == r["declared"]), None)
            sv = claim["seed_verdict"] if claim else None
        word = None if c is None else c["verdict"]
        diff, se = _delta_cells(c)
        out.append({
            tx(lang, "tables.experiment"): r["experiment"],
            tx(lang, "tables.what"): r["title_zh" if lang == "zh" else "title"],
            tx(lang, "tables.parameters"): f"{params_at(cfg, cfg['data']['image_size']):,}",
            tx(lang, "tables.seeds"): r["n_done"],
            tx(lang, "tables.epochs-run-mean"):
                None if r["epochs_run_mean"] is None else round(r["epochs_run_mean"], 1),
            tx(lang, "tables.test-acc"):
                figure(r["test_acc_mean"], r["test_acc_std"], r["n_done"], lang, count=False),
            tx(lang, "tables.delta"): diff, tx(lang, "tables.se"): se,
            tx(lang, "tables.our-verdict"): None if word is None else _v(lang, word),
            tx(lang, "tables.seed-verdict"): None if sv is None else local(lang, sv),
            tx(lang, "tables.s-epoch"): None if r["sec_per_epoch"] is None else round(r["sec_per_epoch"], 1),
        })
    return pd.DataFrame(out)


def technique_blocks(technique: str, lang: str = "en", root=None) -> list:
    from core.blocks import left_out_blocks, verdict_rule
    rows = technique_rows(technique, root, lang=lang)
    blocks = [("h1", _name(lang, technique)), ("md", tx(lang, f"techniques.{technique}.text")),
              *left_out_blocks(lang, rows)]
    done = [r for r in rows if r["n_done"]]
    names = " ".join(r["declared"] for r in rows if r["origin"] == "study")
    if not done:
        return blocks + [("md", tx(lang, "techniques.no-runs", names=names))]
    blocks += [
        ("h2", tx(lang, "techniques.results")),
        ("md", tx(lang, "techniques.results-text")),
        ("chart", _accuracy_chart(lang, done)),
        ("table", technique_table(lang, technique, rows)),
        ("md", verdict_rule(lang)),
        *_disagreement(lang, technique, rows),
        ("h2", tx(lang, "techniques.curves")),
        ("md", tx(lang, "techniques.curves-text")),
        *_curves_blocks(lang, done),
    ]
    if technique in ("small-kernels", "batchnorm", "avg-pooling", "same-padding", "architectures",
                     "image-size"):
        blocks += _model_blocks(lang, technique)
    return blocks


def _disagreement(lang: str, technique: str, rows: list[dict]) -> list:
    """Where a verdict of ours differs from the seed's, the likely reasons."""
    base = next((r for r in rows if r["experiment"] == "c50-baseline"), None)
    if base is None:
        return []
    differ = []
    for r in rows:
        claim = next((c for c in study.CLAIMS if c["id"] == r["experiment"]), None)
        if claim is None or not claim["seed_verdict"]:
            continue
        ours = compare(r, base)["verdict"]
        if ours in ("up", "unchanged", "down") and ours != SEED_WORD.get(claim["seed_verdict"]["en"]):
            differ.append(r["experiment"])
    if not differ:
        return []
    from core.blocks import lookup
    why = lookup(lang, f"techniques.{technique}.why", "")
    values = {"experiments": ", ".join(differ), "generic": tx(lang, "techniques.why-generic")}
    return [("md", tx(lang, "techniques.differ-why", **values, why=why) if why else
             tx(lang, "techniques.differ", **values))]


def _model_blocks(lang: str, technique: str) -> list:
    from core.blocks import model_blocks
    names = ["c50-baseline", *study.variants_of(technique)]
    counts = []
    for n in names:
        cfg = study.EXPERIMENTS[n](False)
        seed_size = SEED_SIZE.get(cfg["model"]["name"], 128)
        counts.append({tx(lang, "tables.experiment"): n, tx(lang, "techniques.models.model"): cfg["model"]["name"],
                       tx(lang, "techniques.models.input"): f"{cfg['data']['image_size']}²",
                       tx(lang, "techniques.models.params"): f"{params_at(cfg, cfg['data']['image_size']):,}",
                       tx(lang, "techniques.models.seed-input"): f"{seed_size}²",
                       tx(lang, "techniques.models.seed-params"): f"{params_at(cfg, seed_size):,}"})
    blocks = [("h2", tx(lang, "techniques.models")), ("md", tx(lang, "techniques.models-text")),
              ("table", pd.DataFrame(counts))]
    if technique != "image-size":
        seen = set()
        for n in names:
            cfg = study.EXPERIMENTS[n](False)
            key = (cfg["model"]["name"], str(sorted(cfg["model"].get("kwargs", {}).items())))
            if key in seen:
                continue
            seen.add(key)
            blocks += model_blocks(lang, summary_table(cfg, cfg["data"]["image_size"]), cfg["model"]["name"], n)
    return blocks


def _against_baseline(rows: list[dict]):
    """(claim, variant row, baseline row, core.verdict.compare) for every
    technique variant with a row, the baseline's row being there too."""
    by = {r["experiment"]: r for r in rows}
    base = by.get("c50-baseline")
    for claim in study.CLAIMS:
        r = by.get(claim["id"])
        if r is not None and base is not None:
            yield claim, r, base, compare(r, base)


def techniques_table(lang: str, rows: list[dict]) -> pd.DataFrame:
    """Seed 000's conclusions table, redone: variant vs baseline, up / unchanged / down."""
    out = []
    for claim, _, _, c in _against_baseline(rows):
        en, zh = study.TECHNIQUES[claim["technique"]][:2]
        sv = claim["seed_verdict"]
        out.append({
            tx(lang, "tables.technique"): local(lang, {"en": en, "zh": zh}),
            tx(lang, "tables.variant"): claim["claim"][lang].split("：" if lang == "zh" else ": ", 1)[-1],
            tx(lang, "tables.seeds"): f"{c['n_variant']} / {c['n_baseline']}",
            tx(lang, "tables.delta"): None if c["diff"] is None else round(100 * c["diff"], 2),
            tx(lang, "tables.se"): None if c["se"] is None else round(100 * c["se"], 2),
            tx(lang, "tables.our-verdict"): _v(lang, c["verdict"]),
            tx(lang, "tables.seed-verdict"): local(lang, sv) if sv else None,
            "page": claim["page"],
        })
    return pd.DataFrame(out)


def markdown_verdicts(rows: list[dict]) -> str:
    """The README's verdict table: every variant against the baseline."""
    table = techniques_table("en", rows).drop(columns=["page"])
    return "" if table.empty else _markdown(table)


def _markdown(table: pd.DataFrame) -> str:
    """A pipe table for the README, '–' where a cell is empty."""
    table = table.astype(object).where(table.notna(), "–")
    lines = ["| " + " | ".join(table.columns) + " |", "|" + "---|" * len(table.columns)]
    lines += ["| " + " | ".join(str(v) for v in row) + " |" for row in table.itertuples(index=False)]
    return "\n".join(lines)


PLANNED_SEEDS = 3  # the minimum per variant; the goal is judged on no fewer


def study_time(rows: list[dict]) -> str:
    """What the study has cost so far, from the run records (training plus
    test evaluation, summed over finished runs), against its 4-hour budget.

    Runs often shared the two cores with another training job or the test
    suite, which inflates their measured time. So a second figure prices every
    run at its variant's fastest median epoch among its seeds (the least
    shared one): epochs run x that pace, plus the run's evaluation time."""
    from pathlib import Path

    from core.records import Run
    total, paced, n = 0.0, 0.0, 0
    for r in rows:
        summaries = [Run(Path(p)).summary or {} for p in r["run_paths"]]
        paces = [s["seconds_per_epoch_median"] for s in summaries if s.get("seconds_per_epoch_median")]
        for s in summaries:
            measured = (s.get("train_seconds") or 0) + (s.get("eval_seconds") or 0)
            total += measured
            paced += (min(paces) * s["epochs_run"] + (s.get("eval_seconds") or 0)
                      if paces and s.get("epochs_run") else measured)
            n += 1
    declared = sum(1 for r in rows if r["origin"] == "study") * PLANNED_SEEDS
    return (f"Study time so far: {total / 3600:.2f} h of training and evaluation over {n} finished runs "
            f"(of {declared} planned: every variant x {PLANNED_SEEDS} seeds); {paced / 3600:.2f} h at each variant's "
            f"fastest measured pace (runs often shared the cores with other jobs, which inflates the "
            f"first figure); budget 4 h on 2 CPU cores.")


# Which study variant is the evidence for each ingredient of the best runs
# (the ingredient's name: content/<lang>/best.md, ingredient.<variant>), and where it is used.
BEST_INGREDIENTS = (
    ("c50-batchnorm", "c50-best, c50-best-long, c50-best-strong"),
    ("c50-same-padding", "c50-best, c50-best-long, c50-best-strong"),
    ("c50-decay-plateau", "c50-best"),
    ("c50-decay-cosine", "c50-best-long, c50-best-strong"),
    ("c50-size-64", "c50-best-long, c50-best-strong"),
    ("c50-arch-digits", "c50-best-long, c50-best-strong"),
    ("c50-aug-mild", "c50-best-long, c50-best-strong"),
    ("c50-aug-noflip", "c50-best-long-noflip"),
)
BEST_ROWS = ("c50-baseline", "c50-best", "c50-baseline-long", "c50-best-long-noaug", "c50-best-long-noflip",
             "c50-best-long",
             "c50-best-strong", "c50-best-hires", "c50-best-mix", "c50-best-mix-long",
             "c50-best-mix-xlong")
GOAL = 0.15


def best_summary(lang: str, rows: list[dict], page_hint: bool = True) -> str | None:
    """One line for the Overview (and, without the page pointer, the CLI
    report): the best run so far against the goal. The headline and the goal
    rest on experiments with all PLANNED_SEEDS finished, because a single seed
    can lead by luck (the study's seeds spread up to 5 points); a higher mean
    on fewer seeds is named after it as provisional."""
    by = {r["experiment"]: r for r in rows}
    base = by.get("c50-baseline")
    cands = [by[n] for n in BEST_ROWS[1:] if n in by and by[n]["n_done"] and "baseline" not in n]
    if not base or not base["n_done"] or not cands:
        return None
    full = [r for r in cands if r["n_done"] >= PLANNED_SEEDS]
    best = max(full or cands, key=lambda r: r["test_acc_mean"])
    ahead = max((r for r in cands if r["test_acc_mean"] > best["test_acc_mean"]),
                key=lambda r: r["test_acc_mean"], default=None)

    def pts(r):
        return f"{100 * (r['test_acc_mean'] - base['test_acc_mean']):+.2f}"

    def acc(r):
        return f"{100 * r['test_acc_mean']:.2f}"

    met = bool(full) and 100 * (best["test_acc_mean"] - base["test_acc_mean"]) >= 100 * GOAL
    goal = (tx(lang, "best.summary.met") if met else tx(lang, "best.summary.not-met") if full else
            tx(lang, "best.summary.not-met-partial", planned=PLANNED_SEEDS))
    line = tx(lang, "best.summary.line", experiment=best["experiment"], acc=acc(best), n=best["n_done"],
              base=acc(base), base_n=base["n_done"], diff=pts(best), goal=goal)
    if ahead:
        line = tx(lang, "best.summary.ahead", before=line, experiment=ahead["experiment"], acc=acc(ahead),
                  n=ahead["n_done"], planned=PLANNED_SEEDS, diff=pts(ahead))
    return tx(lang, "best.summary.page-hint", before=line) if page_hint else line


def ensemble_rows(lang: str, rows: list[dict], root=None) -> list[dict]:
    """Seed ensembles of the best-combination experiments (runs/<exp>/ensemble.json),
    each against the baseline's mean. A record of an older declaration is left
    out; one computed before more seeds finished says so."""
    from experiments.caltech import ensemble
    by = {r["experiment"]: r for r in rows}
    base = by.get("c50-baseline")
    if not base or not base["n_done"]:
        return []
    out = []
    for name in BEST_ROWS[1:]:
        r, rec = by.get(name), ensemble.read(name, root)
        if not r or not r["n_done"] or not rec:
            continue
        ids = {Path(p).name for p in r["run_paths"]}
        members = [m["run"].split("/", 1)[1] for m in rec["members"]]
        if not set(members) <= ids:
            continue  # computed from runs of another declaration
        single = statistics.fmean(m["test"]["accuracy"] for m in rec["members"])
        cells = {}
        for key in ("test", "test_flip"):
            acc = rec[key]["accuracy"]
            diff = 100 * (acc - base["test_acc_mean"])
            cells[tx(lang, f"best.ensemble.{key}")] = tx(
                lang, "best.ensemble.cell-met" if diff >= 100 * GOAL else "best.ensemble.cell",
                acc=f"{100 * acc:.2f}", diff=f"{diff:+.2f}")
        out.append({
            tx(lang, "tables.experiment"): name,
            tx(lang, "best.ensemble.members"): f"{len(members)}" if len(members) == len(ids) else
            tx(lang, "best.ensemble.members-of", n=len(members), total=len(ids)),
            tx(lang, "best.ensemble.mean"): f"{100 * single:.2f}",
            **cells,
            tx(lang, "best.ensemble.computed"): f"{rec.get('created', '')[:10]} "
                                                f"{((rec.get('git') or {}).get('commit') or '')[:7]}"})
    return out


def _ensemble_blocks(lang: str, rows: list[dict], root=None) -> list:
    table = ensemble_rows(lang, rows, root)
    if not table:
        return []
    return [("h3", tx(lang, "best.ensemble.title")), ("md", tx(lang, "best.ensemble.text")),
            ("table", pd.DataFrame(table))]


def markdown_ensembles(rows: list[dict], root=None) -> str:
    table = ensemble_rows("en", rows, root)
    if not table:
        return ""
    return ("Seed ensembles (`python -m experiments.caltech ensemble <experiment>`; Δ vs the baseline's mean):\n\n"
            + _markdown(pd.DataFrame(table)))


def best_blocks(lang: str = "en", root=None) -> list:
    """The best-combination page: what went in and why, against the +15-point goal."""
    from core.blocks import left_out_blocks, model_blocks, verdict_rule
    blocks = [("h1", tx(lang, "best.title")), ("md", tx(lang, "best.text"))]
    study_rows = {r["experiment"]: r for r in experiment_rows(root, study.EXPERIMENTS)}
    blocks += left_out_blocks(lang, list(study_rows.values()))
    base = study_rows["c50-baseline"]
    evidence = []
    for exp, used in BEST_INGREDIENTS:
        r = study_rows[exp]
        c = compare(r, base) if r["n_done"] and base["n_done"] else None
        diff, se = _delta_cells(c)
        evidence.append({
            tx(lang, "best.ingredients.ingredient"): tx(lang, f"best.ingredient.{exp}"),
            tx(lang, "best.ingredients.evidence"): exp,
            tx(lang, "tables.seeds"): r["n_done"], tx(lang, "tables.delta"): diff, tx(lang, "tables.se"): se,
            tx(lang, "best.ingredients.verdict"): None if c is None else _v(lang, c["verdict"]),
            tx(lang, "best.ingredients.used-in"): used})
    blocks += [("h2", tx(lang, "best.ingredients.title")), ("md", tx(lang, "best.ingredients.text")),
               ("table", pd.DataFrame(evidence))]

    rows = [study_rows[n] for n in BEST_ROWS]
    done = [r for r in rows if r["n_done"]]
    names = " ".join(n for n in BEST_ROWS if not study_rows[n]["n_done"])
    blocks.append(("h2", tx(lang, "best.results")))
    if names:
        blocks.append(("md", tx(lang, "best.not-trained", names=names)))
    if not base["n_done"] or len(done) < 2:
        return blocks
    target = 100 * (base["test_acc_mean"] + GOAL)
    table = []
    for r in done:
        c = compare(r, base) if r is not base else None
        low = None if not c or c["se"] is None else c["diff"] - 2 * c["se"]
        diff, se = _delta_cells(c)
        table.append({
            tx(lang, "tables.experiment"): r["experiment"],
            tx(lang, "tables.what"): r["title_zh" if lang == "zh" else "title"],
            tx(lang, "tables.parameters"): None if r["params"] is None else f"{r['params']:,}",
            tx(lang, "tables.seeds"): r["n_done"],
            tx(lang, "tables.epochs-run-mean"): round(r["epochs_run_mean"], 1),
            tx(lang, "tables.test-acc"): figure(r["test_acc_mean"], r["test_acc_std"], r["n_done"], lang, count=False),
            tx(lang, "best.delta"): diff, tx(lang, "tables.se"): se,
            tx(lang, "best.goal-met"): None if not c or c["diff"] is None else (
                tx(lang, "best.goal.no") if c["diff"] < GOAL else
                tx(lang, "best.goal.provisional", n=r["n_done"], planned=PLANNED_SEEDS)
                if r["n_done"] < PLANNED_SEEDS else
                tx(lang, "best.goal.yes") if low is None or low >= GOAL else tx(lang, "best.goal.yes-mean-only")),
            tx(lang, "tables.s-epoch"): None if r["sec_per_epoch"] is None else round(r["sec_per_epoch"], 1)})
    blocks += [
        ("md", tx(lang, "best.goal", base=f"{100 * base['test_acc_mean']:.2f}", target=f"{target:.2f}")),
        ("chart", _accuracy_chart(lang, done, target)),
        ("table", pd.DataFrame(table)),
        ("md", verdict_rule(lang)),
        *_ensemble_blocks(lang, done, root),
        *_head_tail_blocks(lang, done),
        *_mirror_blocks(lang, done),
        ("h2", tx(lang, "best.curves")),
        *_curves_blocks(lang, done),
    ]
    # The network of the best row by mean test accuracy (not a fixed name, so
    # the page follows the results).
    best = max((r for r in done if r is not base), key=lambda r: r["test_acc_mean"])["experiment"]
    cfg = study.EXPERIMENTS[best](False)
    blocks += [("h2", tx(lang, "best.best-model")),
               *model_blocks(lang, summary_table(cfg, cfg["data"]["image_size"]), cfg["model"]["name"], best)]
    return blocks


def _head_tail_blocks(lang: str, rows: list[dict]) -> list:
    """Where a gain comes from: the ten largest classes against the ten smallest."""
    from experiments.caltech.tools import head_tail_frame
    ht = head_tail_frame({r["experiment"]: r["run_paths"] for r in rows})
    if ht.empty:
        return []
    ht = ht.assign(cell=[f"{100 * a:.1f}" + (" ± –" if pd.isna(sd) else f" ± {100 * sd:.1f}")
                         for a, sd in zip(ht["accuracy"], ht["std"])])
    table = ht.pivot(index="experiment", columns="group", values="cell").reindex(
        [r["experiment"] for r in rows]).dropna(how="all").reset_index()
    table.columns.name = None
    table = table.rename(columns={"experiment": tx(lang, "tables.experiment"),
                                  "head": tx(lang, "best.head-tail.head"),
                                  "tail": tx(lang, "best.head-tail.tail")})
    return [("h3", tx(lang, "best.head-tail.title")), ("md", tx(lang, "best.head-tail.text")),
            ("table", table)]


def mirror_table(lang: str, rows: list[dict]) -> pd.DataFrame:
    from experiments.caltech.tools import mirror_frame
    mf = mirror_frame({r["experiment"]: r["run_paths"] for r in rows})

    def pct(col):  # "0.00" rather than "-0.00" where a difference rounds away
        return [f"{round(100 * v, 2) + 0.0:.2f}" for v in mf[col]]
    return pd.DataFrame({
        tx(lang, "tables.experiment"): mf["experiment"], tx(lang, "tables.runs"): mf["runs"],
        tx(lang, "best.mirror.test"): pct("original"),
        tx(lang, "best.mirror.mirrored"): pct("mirrored"),
        tx(lang, "best.mirror.drop"): pct("drop")})


def _mirror_blocks(lang: str, rows: list[dict]) -> list:
    table = mirror_table(lang, rows)
    if table.empty:
        return []
    return [("h3", tx(lang, "best.mirror.title")), ("md", tx(lang, "best.mirror.text")), ("table", table)]


def markdown_mirror(rows: list[dict]) -> str:
    rows = [r for r in rows if r["experiment"] in BEST_ROWS]
    table = mirror_table("en", rows)
    if table.empty:
        return ""
    return "Mirrored test images (`test_probs.npz` of each run):\n\n" + _markdown(table)


def page_functions() -> list[tuple[str, object]]:
    """(page key, blocks function) for core.report.PAGES: one per technique, then the best combination."""
    return [*((study.TECHNIQUES[t][2], functools.partial(technique_blocks, t)) for t in study.TECHNIQUES),
            ("c50-best", best_blocks)]


# --- the Overview's part, and `experiments report`'s ---------------------------------

def cards(lang: str, rows: list[dict]) -> list[dict]:
    """The Overview's card: the best full-budget combination's gain over the baseline."""
    by = {r["experiment"]: r for r in rows}
    base = by.get("c50-baseline")
    full = [by[n] for n in BEST_ROWS[1:] if n in by and "baseline" not in n and by[n]["n_done"] >= PLANNED_SEEDS]
    if not (base and base["n_done"] and full):
        return []
    best = max(full, key=lambda r: r["test_acc_mean"])
    return [{"label": tx(lang, "overview.metric-c50.label"),
             "value": tx(lang, "overview.metric-c50.value",
                         diff=f"{100 * (best['test_acc_mean'] - base['test_acc_mean']):+.2f}"),
             "caption": tx(lang, "overview.metric-c50.caption", experiment=best["experiment"],
                           acc=f"{100 * best['test_acc_mean']:.2f}", base=f"{100 * base['test_acc_mean']:.2f}",
                           n=best["n_done"]),
             "help": tx(lang, "overview.metric-c50.help")}]


def technique_forest(lang: str, rows: list[dict]) -> pd.DataFrame:
    """One forest-plot row per technique variant against the baseline."""
    from core.report import FOREST_COLUMNS
    out = []
    for claim, r, base, c in _against_baseline(rows):
        if not r["n_done"] or not base["n_done"] or c["diff"] is None:
            continue
        sv = claim["seed_verdict"]
        out.append({"label": claim["claim"][lang],
                    "diff": 100 * c["diff"], "se": None if c["se"] is None else 100 * c["se"],
                    "verdict": c["verdict"], "seed": local(lang, sv) if sv else ""})
    return pd.DataFrame(out, columns=FOREST_COLUMNS)


def overview(lang: str, rows: list[dict]) -> dict:
    """Seed 000's techniques as a forest plot, the best combination's line,
    and the conclusions table."""
    line = best_summary(lang, rows)
    return {"forest": [(tx(lang, "overview.claims.c50"), technique_forest(lang, rows))],
            "summary": [line] if line else [],
            "details": [("h3", tx(lang, "overview.details.c50")), ("md", tx(lang, "overview.details.c50-text")),
                        ("table", techniques_table(lang, rows))]}


def report_rows(group: str | None) -> list[str]:
    """Experiments `experiments report --group` lists beside the group's own:
    the best combination is judged against the study's baseline."""
    return ["c50-baseline"] if group == "c50-best" else []


def report_extras(rows: list[dict], every: list[dict], group: str | None, root=None) -> list[str]:
    """What `experiments report` prints after its table, each after an empty
    line: the verdicts and the study's training time; for the best
    combination its summary, the ensembles and the mirrored-test table."""
    out = []
    if any(r["group"] == "c50" for r in rows) and group != "c50-best":
        out += [markdown_verdicts(rows), study_time(rows)]
    if any(r["group"] == "c50-best" for r in rows):
        out += [t for t in (best_summary("en", every, page_hint=False), markdown_ensembles(every, root),
                            markdown_mirror(rows)) if t]
    return out
