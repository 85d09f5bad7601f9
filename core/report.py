"""The report's content as blocks, rendered by the app *and* by every export
(core/export/), so the two can never disagree.

A block is a tuple: ("h1"|"h2"|"h3"|"md", text) | ("table", DataFrame)
| ("chart", altair chart) | ("row", [altair charts side by side])
| ("metrics", [card]) | ("key", curves key). Every text comes from the
content files (core.text) in the language `lang`; numbers are formatted
where the blocks are made.

This module holds what every study shares: the Overview (built from each
registered study's cards and overview parts, core/study.py), the page of a
study declared with experiments.declare(), and the pieces study pages use
(claims tables, forest frames, accuracy and curve charts). A study's own
pages live in its package.
"""
from __future__ import annotations

import pandas as pd

from core.results import accuracy_points, experiment_rows, figure
from core.verdict import Z, claim_rows, compare


# The words and small blocks every page shares live in core/blocks.py; they
# are re-exported here for the callers that always took them from core.report.
from core.blocks import (VERDICTS, _v, left_out_blocks, local, lookup, model_blocks,  # noqa: F401
                         model_summary, slug, tx, verdict_labels, verdict_rule)


def claims_table(lang: str, claims: list[dict], rows: list[dict]) -> pd.DataFrame:
    """The finding first (claim, Δ, ± se, verdicts), how it was tested after."""
    out = []
    for c in claim_rows(claims, rows):
        out.append({
            tx(lang, "tables.claim"): local(lang, c["claim"]),
            tx(lang, "tables.delta"): None if c["diff"] is None else round(100 * c["diff"], 2),
            tx(lang, "tables.se"): None if c["se"] is None else round(100 * c["se"], 2),
            tx(lang, "tables.our-verdict"): _v(lang, c["outcome"]),
            tx(lang, "tables.seed-verdict"): local(lang, c["seed_verdict"]),
            tx(lang, "tables.tested-as"): local(lang, c["how"]),
            tx(lang, "tables.ahead"): c["variant"],
            tx(lang, "tables.behind"): c["baseline"],
            "page": c["page"],
        })
    return pd.DataFrame(out)


FOREST_COLUMNS = ["label", "diff", "se", "verdict", "seed"]


def claim_forest(lang: str, claims: list[dict], rows: list[dict]) -> pd.DataFrame:
    """One forest-plot row per tested claim (core.verdict.claim_rows): Δ and
    se in points, our verdict, the seed's."""
    out = []
    for c in claim_rows(claims, rows):
        if c["diff"] is None:
            continue
        how = tx(lang, "overview.forest.as-seed-ran-it" if c["as_seed_ran_it"] else "overview.forest.confound-removed")
        out.append({"label": tx(lang, "overview.forest.label", claim=local(lang, c["claim"]), how=how),
                    "diff": 100 * c["diff"], "se": None if c["se"] is None else 100 * c["se"],
                    "verdict": c["outcome"], "seed": local(lang, c["seed_verdict"])})
    return pd.DataFrame(out, columns=FOREST_COLUMNS)


def forest_ready(lang: str, df: pd.DataFrame) -> pd.DataFrame:
    """A forest frame with its ± 2 se interval and the seed's verdict worded."""
    df = df.copy()
    if df.empty:
        return df
    df["low"] = df["diff"] - Z * df["se"].fillna(0)
    df["high"] = df["diff"] + Z * df["se"].fillna(0)
    df["seed"] = [tx(lang, "overview.forest.seed", verdict=s) if s else "" for s in df["seed"]]
    return df.round(3)


def _forest(lang: str, df: pd.DataFrame):
    from core import charts
    return charts.forest_plot(df, tx(lang, "overview.forest.axis"), tx(lang, "tables.our-verdict"),
                              verdict_labels(lang), lang=lang)


def accuracy_chart(lang: str, done: list[dict], target: float | None = None, axis: str | None = None):
    """Test accuracy dots (mean ± std over seeds) of finished rows, the axis
    fitted to them (and to the goal line, if any); `axis` titles another
    figure (a study of one's own may compare validation accuracy)."""
    from core import charts
    acc = accuracy_points(done, lang, reference=False)
    return charts.accuracy_bars(acc, axis or tx(lang, "tables.axis-test-accuracy"), target=target, lang=lang)


def curves_blocks(lang: str, done: list[dict]) -> list:
    """The key of the lines' colours, then the row of curve charts."""
    from core import charts
    curves = charts.curves_frame(done)
    return [("key", charts.curves_key(curves)), ("row", curves_chart(lang, curves))]


def curves_chart(lang: str, curves):
    from core import charts
    return charts.curves_panel(curves, {
        "accuracy": tx(lang, "tables.curve-accuracy"),
        "val_accuracy": tx(lang, "tables.curve-val-accuracy"),
        "val_loss": tx(lang, "tables.curve-val-loss"),
        "gap_accuracy": tx(lang, "tables.curve-gap")}, lang=lang)


# --- the Overview ----------------------------------------------------------------

def _parts(rows: list[dict], lang: str) -> list[dict]:
    """Each study's part of the Overview (Study.overview): {"forest": [(title,
    frame)], "summary": [markdown], "details": [blocks]}."""
    from core.study import resolve, studies
    return [resolve(s.overview)(lang, rows) for s in studies() if s.overview]


def headline_metrics(lang: str, rows: list[dict]) -> list[dict]:
    """Every study's headline cards (Study.cards), each from its runs."""
    from core.study import resolve, studies
    return [card for s in studies() if s.cards for card in resolve(s.cards)(lang, rows)]


def _intro(lang: str) -> str:
    from core.study import studies
    phrases = [tx(lang, s.intro) for s in studies() if s.intro]
    if not phrases:
        return tx(lang, "overview.intro-none")
    joined = phrases[0] if len(phrases) == 1 else \
        tx(lang, "overview.intro-join").join(phrases[:-1]) + tx(lang, "overview.intro-last") + phrases[-1]
    return tx(lang, "overview.intro", studies=joined)


def overview_blocks(lang: str = "en", root=None) -> list:
    rows = experiment_rows(root)
    parts = _parts(rows, lang)
    forests = [(title, forest_ready(lang, df)) for p in parts for title, df in p.get("forest", ())
               if not df.empty]
    blocks = [
        ("h1", tx(lang, "overview.title")),
        ("md", _intro(lang)),
        *left_out_blocks(lang, rows),
        ("metrics", headline_metrics(lang, rows)),
        ("h2", tx(lang, "overview.claims.title")),
    ]
    if forests:
        blocks += [("md", tx(lang, "overview.claims.text"))]
        for title, df in forests:
            blocks += [("h3", title), ("chart", _forest(lang, df))]
    blocks += [("md", line) for p in parts for line in p.get("summary", ()) if line]
    blocks += [("h2", tx(lang, "overview.details.title")), ("md", tx(lang, "overview.details.text"))]
    blocks += [b for p in parts for b in p.get("details", ())]
    blocks += [
        ("md", verdict_rule(lang)),
        ("h2", tx(lang, "overview.experiments.title")),
        ("table", pd.DataFrame([{
            tx(lang, "tables.experiment"): r["experiment"],
            tx(lang, "tables.what"): r["title_zh" if lang == "zh" else "title"],
            tx(lang, "overview.experiments.seeds-done"): r["n_done"],
            tx(lang, "overview.experiments.seed-acc"):
                None if r["reference"] is None else round(100 * r["reference"], 2),
            tx(lang, "overview.experiments.ours"):
                None if r["test_acc_mean"] is None else round(100 * r["test_acc_mean"], 2),
            tx(lang, "tables.std"): None if r["test_acc_std"] is None else round(100 * r["test_acc_std"], 2),
            tx(lang, "tables.s-epoch"): None if r["sec_per_epoch"] is None else round(r["sec_per_epoch"], 1),
        } for r in rows if r["group"] != "smoke"])),
    ]
    return blocks


# --- a declared study's page ---------------------------------------------------------

def _metric(spec: dict) -> str:
    return spec.get("metric") or "test_accuracy"


def _against(spec: dict, rows: list[dict]):
    """(row, comparison with the baseline or None) for each of the study's rows."""
    base = next((r for r in rows if r["experiment"] == spec.get("baseline")), None)
    return base, [(r, compare(r, base) if base is not None and r is not base else None) for r in rows]


def variants_forest(lang: str, pairs: list[tuple]) -> pd.DataFrame:
    """One forest row per variant with runs, its Δ against the baseline
    (`pairs` as _against gives them)."""
    out = [{"label": r["title_zh" if lang == "zh" else "title"] or r["experiment"],
            "diff": 100 * c["diff"], "se": None if c["se"] is None else 100 * c["se"],
            "verdict": c["verdict"], "seed": ""}
           for r, c in pairs if c is not None and c["diff"] is not None]
    return pd.DataFrame(out, columns=FOREST_COLUMNS)


def group_blocks(group: str, lang: str = "en", root=None) -> list:
    """The page of a declared study (experiments.declare()) or of one's own
    (recorded or imported runs, core/own.py): every experiment's figure over
    its seeds, each against the baseline it names with our verdict rule, the
    forest plot of its variants and the training curves. Built from the runs
    alone, so a new study needs no page file."""
    from core.study import study
    spec = study(group).declared
    rows = [r for r in experiment_rows(root, include_app=True, lang=lang) if r["group"] == group]
    metric = _metric(spec)
    blocks = [("h1", local(lang, spec["title"]))]
    if spec.get("text"):
        blocks.append(("md", local(lang, spec["text"])))
    if spec.get("origins"):  # a study of one's own: whose runs these are, and where from
        blocks.append(("md", tx(lang, "groups.yours-" + "-".join(spec["origins"]), group=group)))
    blocks += left_out_blocks(lang, rows)
    done = [r for r in rows if r["n_done"]]
    names = " ".join(spec["experiments"])
    if not done:
        key = "groups.no-runs-yours" if spec.get("origins") else "groups.no-runs"
        return blocks + [("md", tx(lang, key, names=names, group=group))]
    base, pairs = _against(spec, rows)
    figure_head = tx(lang, f"groups.figure-{metric}")
    table = []
    for r, c in pairs:
        table.append({
            tx(lang, "tables.experiment"): r["experiment"],
            tx(lang, "tables.what"): r["title_zh" if lang == "zh" else "title"],
            tx(lang, "tables.seeds"): r["n_done"],
            figure_head: figure(r["test_acc_mean"], r["test_acc_std"], r["n_done"], lang, count=False),
            tx(lang, "tables.delta"): None if c is None or c["diff"] is None else round(100 * c["diff"], 2),
            tx(lang, "tables.se"): None if c is None or c["se"] is None else round(100 * c["se"], 2),
            tx(lang, "tables.our-verdict"): (tx(lang, "groups.baseline") if r is base else
                                             None if c is None else _v(lang, c["verdict"])),
            tx(lang, "tables.s-epoch"): None if r["sec_per_epoch"] is None else round(r["sec_per_epoch"], 1),
        })
    if all(r["title_zh" if lang == "zh" else "title"] in ("", r["experiment"]) for r in rows):
        for t in table:  # titles that only repeat the names say nothing
            t.pop(tx(lang, "tables.what"))
    if base is None:
        against = tx(lang, "groups.no-baseline") if not spec.get("baseline") else \
            tx(lang, "groups.baseline-missing", baseline=spec["baseline"])
    else:
        against = tx(lang, "groups.results-text", baseline=spec["baseline"], figure=tx(lang, f"groups.what-{metric}"))
    blocks += [
        ("h2", tx(lang, "groups.results")),
        ("md", against),
        ("chart", accuracy_chart(lang, done, axis=tx(lang, f"groups.axis-{metric}"))),
        ("table", pd.DataFrame(table)),
        ("md", verdict_rule(lang)),
    ]
    forest = forest_ready(lang, variants_forest(lang, pairs))
    if not forest.empty:
        blocks += [("h2", tx(lang, "groups.forest")), ("md", tx(lang, "groups.forest-text", baseline=spec["baseline"])),
                   ("chart", _forest(lang, forest))]
    return blocks + [("h2", tx(lang, "groups.curves")), *curves_blocks(lang, done)]


def group_cards(group: str, lang: str, rows: list[dict]) -> list[dict]:
    """A declared or own study's Overview card: its best variant against its
    baseline, or, without one, its best experiment's figure."""
    from core.study import study
    spec = study(group).declared
    mine = [r for r in rows if r["group"] == group and r["n_done"]]
    if not mine:
        return []
    metric = _metric(spec)
    base, pairs = _against(spec, mine)
    variants = [(r, c) for r, c in pairs if c is not None and c["diff"] is not None]
    best = max(mine, key=lambda r: r["test_acc_mean"])
    card = {"label": local(lang, spec["title"]), "help": tx(lang, "groups.card-help", figure=tx(lang, f"groups.figure-{metric}"))}
    if base is not None and variants:
        r, c = max(variants, key=lambda rc: rc[1]["diff"])
        card["value"] = tx(lang, "groups.card-delta", diff=f"{100 * c['diff']:+.2f}")
        card["caption"] = tx(lang, "groups.card-caption", experiment=r["experiment"],
                             figure=figure(r["test_acc_mean"], r["test_acc_std"], r["n_done"], lang),
                             base=figure(base["test_acc_mean"], base["test_acc_std"], base["n_done"], lang),
                             verdict=_v(lang, c["verdict"]))
    else:
        card["value"] = f"{100 * best['test_acc_mean']:.2f} %"
        card["caption"] = tx(lang, "groups.card-best", experiment=best["experiment"],
                             figure=figure(best["test_acc_mean"], best["test_acc_std"], best["n_done"], lang))
    return [card]


def theirs(names: list[str]) -> list[tuple[str, str]]:
    """(own experiment, declared experiment) for each run of one's own that
    asks to be compared with one of `names` (`compare_with`, core/own.py)."""
    from core.study import own_studies
    return [(e, target) for s in own_studies() for e, target in s.declared.get("compare_with", {}).items()
            if target in names]


def theirs_blocks(lang: str, names: list[str], root=None) -> list:
    """A table of one's own experiments beside the declared ones they name,
    marked as one's own: each figure over its seeds and the difference, with
    our verdict. Not part of any export: the report's pages are ours."""
    pairs = theirs(names)
    if not pairs:
        return []
    rows = {r["experiment"]: r for r in experiment_rows(root)}
    table = []
    for mine, target in pairs:
        a, b = rows.get(mine), rows.get(target)
        if a is None or b is None or not a["n_done"]:
            continue
        c = compare(a, b)
        table.append({
            tx(lang, "groups.theirs-yours"): f"{mine} ({tx(lang, 'common.yours')}, {a['group']})",
            tx(lang, "groups.theirs-ours"): target,
            tx(lang, "groups.theirs-figure-yours"): figure(a["test_acc_mean"], a["test_acc_std"], a["n_done"], lang),
            tx(lang, "groups.theirs-figure-ours"): figure(b["test_acc_mean"], b["test_acc_std"], b["n_done"], lang),
            tx(lang, "tables.delta"): None if c["diff"] is None else round(100 * c["diff"], 2),
            tx(lang, "tables.se"): None if c["se"] is None else round(100 * c["se"], 2),
            tx(lang, "tables.our-verdict"): _v(lang, c["verdict"]),
        })
    if not table:
        return []
    return [("h2", tx(lang, "groups.theirs")), ("md", tx(lang, "groups.theirs-text")), ("table", pd.DataFrame(table))]


def page_function(key: str):
    """The blocks function of a report page, by its key: "overview" or any
    registered study's page (core/study.py)."""
    if key == "overview":
        return overview_blocks
    from core.study import page, resolve
    try:
        return resolve(page(key)[1].blocks)
    except KeyError:
        raise KeyError(f"no report page {key!r}") from None


def page_title(lang: str, key: str) -> str:
    """A report page's name in the export's list of pages: its study's
    export_title (a content key, {"en", "zh"} or a function of the
    language), else its title."""
    if key == "overview":
        return tx(lang, "export.page-overview")
    from core.study import local, page
    spec = page(key)[1]
    title = spec.export_title or spec.title
    return title(lang) if callable(title) else local(lang, title)


def page_keys() -> list[str]:
    """Every report page in report order: the Overview, then each study's
    pages that have blocks (the ones every export writes)."""
    from core.study import pages
    return ["overview", *(p.key for _, p in pages() if p.blocks)]


def __getattr__(name: str):
    """PAGES, as it always was: ((key, blocks function), ...) in report order,
    from the registered studies when asked for (they may be added later)."""
    if name == "PAGES":
        return tuple((key, page_function(key)) for key in page_keys())
    raise AttributeError(name)
