"""The report's content as blocks, rendered by the app *and* exported as one
self-contained HTML file, so the two can never disagree.

A block is a tuple: ("h1"|"h2"|"h3"|"md", text) | ("table", DataFrame)
| ("chart", altair chart) | ("row", [altair charts side by side]). Every text
comes from the content files (content/<lang>/*.md, core.text) in the language
`lang`; numbers are formatted here and passed in as placeholders.
"""
from __future__ import annotations

import json

import pandas as pd

from core.results import accuracy_points, experiment_rows, figure
from core.verdict import Z, claim_rows, compare


# The words and small blocks every page shares live in core/blocks.py, which
# both this module and core/caltech/report.py import (neither imports the
# other's helpers); they are re-exported here for the callers that always
# took them from core.report.
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


# --- pages ---------------------------------------------------------------------

def _audited(paths: list[str], audit_files: tuple | None = None) -> list[dict]:
    """core.captcha.audit.accuracy of each run that stored its test predictions;
    `audit_files` (load_audit(), reviewed()) when the caller has them already."""
    from pathlib import Path

    from core.captcha import audit
    known, looked_at = audit_files or (audit.load_audit(), audit.reviewed())
    return [audit.accuracy(Path(p) / "predictions.csv", known, looked_at) for p in paths
            if (Path(p) / "predictions.csv").is_file()]


def _audit_cells(lang: str, accs: list[dict]) -> dict:
    """The audit columns of a row: image accuracy on the labels as given and
    audited, character accuracy audited (means over the runs), failures read."""
    def mean(k):
        return round(100 * sum(a[k] for a in accs) / len(accs), 2) if accs else None
    return {tx(lang, "captcha_models.audit.given"): mean("exact_match"),
            tx(lang, "captcha_models.audit.audited"): mean("exact_match_audited"),
            tx(lang, "captcha_models.audit.char"): mean("char_accuracy_audited"),
            tx(lang, "captcha_models.audit.by-eye"):
                f"{sum(a['failures_reviewed'] for a in accs)} / {sum(a['failures'] for a in accs)}"
                if accs else None}


def headline_metrics(lang: str, rows: list[dict]) -> list[dict]:
    """The three studies' headline figures, each from its runs."""
    from core.caltech.report import BEST_ROWS, PLANNED_SEEDS
    by = {r["experiment"]: r for r in rows}
    out = []
    fair = [r for r in rows if r["group"] == "mnist-fair" and r["n_done"]]
    cnns = [r for r in fair if not r["model"].startswith("mnist_nn")]  # the dense nets are mnist_nn*
    if cnns:
        best = max(cnns, key=lambda r: r["test_acc_mean"])
        dense = max((r for r in fair if r not in cnns), key=lambda r: r["test_acc_mean"], default=None)
        caption = {"experiment": best["experiment"], "n": best["n_done"]}
        out.append({"label": tx(lang, "overview.metric-mnist.label"),
                    "value": f"{100 * best['test_acc_mean']:.2f} %",
                    "caption": tx(lang, "overview.metric-mnist.caption", **caption) if dense is None else
                    tx(lang, "overview.metric-mnist.caption-dense", **caption,
                       dense=f"{100 * dense['test_acc_mean']:.2f}"),
                    "help": tx(lang, "overview.metric-mnist.help")})
    base = by.get("c50-baseline")
    full = [by[n] for n in BEST_ROWS[1:] if n in by and "baseline" not in n and by[n]["n_done"] >= PLANNED_SEEDS]
    if base and base["n_done"] and full:
        best = max(full, key=lambda r: r["test_acc_mean"])
        out.append({"label": tx(lang, "overview.metric-c50.label"),
                    "value": tx(lang, "overview.metric-c50.value",
                                diff=f"{100 * (best['test_acc_mean'] - base['test_acc_mean']):+.2f}"),
                    "caption": tx(lang, "overview.metric-c50.caption", experiment=best["experiment"],
                                  acc=f"{100 * best['test_acc_mean']:.2f}", base=f"{100 * base['test_acc_mean']:.2f}",
                                  n=best["n_done"]),
                    "help": tx(lang, "overview.metric-c50.help")})
    out += captcha_cards(lang, rows)
    return out


def _scores(rows: list[dict], audit_files: tuple | None = None) -> dict[str, list[dict]]:
    """_audited for each finished row, by its experiment: scored once for
    every section of a page that shows them."""
    from core.captcha import audit
    files = audit_files or (audit.load_audit(), audit.reviewed())
    return {r["experiment"]: _audited(r["run_paths"], files) for r in rows if r["n_done"]}


def captcha_figures(rows: list[dict], scores: dict | None = None) -> dict:
    """The captcha's headline figures, each from its runs' stored test
    predictions scored on the audited labels (`scores`, _scores of the rows
    when the caller has them): "default", the reader a user gets on the
    held-out split (run, audited, as given, seeds); "xsrc", the best recipe
    with the arc undone for each direction of leave-one-source-out (a crawl
    never trained on), weakest first (accuracy, experiment, seeds)."""
    from core.captcha.recognizer import DEFAULT_RUN
    from experiments import EXPERIMENTS
    default = DEFAULT_RUN.split("/")[0]
    if scores is None:
        scores = _scores([r for r in rows if r["experiment"] == default or r["group"] == "captcha-xsrc"])
    out: dict = {}
    accs = scores.get(default, [])
    if accs:
        out["default"] = (default, sum(a["exact_match_audited"] for a in accs) / len(accs),
                          sum(a["exact_match"] for a in accs) / len(accs), len(accs))
    best: dict = {}
    for r in rows:
        data = EXPERIMENTS[r["declared"]](False)["data"] if r["group"] == "captcha-xsrc" else {}
        if r["n_done"] and data.get("preprocess_options", {}).get("undo_arc"):
            accs = scores.get(r["experiment"], [])
            if accs:
                mean = (sum(a["exact_match_audited"] for a in accs) / len(accs), r["experiment"], len(accs))
                best[data["test_source"]] = max(best.get(data["test_source"], mean), mean)
    if best:
        out["xsrc"] = sorted(best.values())
    return out


def captcha_cards(lang: str, rows: list[dict], figures: dict | None = None) -> list[dict]:
    """The captcha's cards of the Overview and of its Models page (captcha_figures)."""
    f = captcha_figures(rows) if figures is None else figures
    out = []
    if "default" in f:
        run, audited, given, n = f["default"]
        out.append({"label": tx(lang, "overview.metric-captcha.label"), "value": f"{100 * audited:.2f} %",
                    "caption": tx(lang, "overview.metric-captcha.caption", run=run, n=n, given=f"{100 * given:.2f}"),
                    "help": tx(lang, "overview.metric-captcha.help")})
    if "xsrc" in f:
        low, high = f["xsrc"][0], f["xsrc"][-1]
        out.append({"label": tx(lang, "overview.metric-xsrc.label"), "value": f"{100 * low[0]:.2f} %",
                    "caption": tx(lang, "overview.metric-xsrc.caption", experiment=low[1], n=low[2],
                                  other=high[1], other_acc=f"{100 * high[0]:.2f}") if high is not low else
                    tx(lang, "overview.metric-xsrc.caption-one", experiment=low[1], n=low[2]),
                    "help": tx(lang, "overview.metric-xsrc.help")})
    return out


def forest_frame(lang: str, rows: list[dict]) -> pd.DataFrame:
    """One row per tested claim and per technique variant: Δ and Δ ± 2 se in
    points, our verdict, the seed's (for the Overview's forest plot)."""
    from experiments import CLAIMS
    from experiments import caltech as study
    out = []
    for c in claim_rows([c for c in CLAIMS if "technique" not in c], rows):
        if c["diff"] is None:
            continue
        how = tx(lang, "overview.forest.as-seed-ran-it" if c["as_seed_ran_it"] else "overview.forest.confound-removed")
        out.append({"label": tx(lang, "overview.forest.label", claim=local(lang, c["claim"]), how=how),
                    "diff": 100 * c["diff"], "se": None if c["se"] is None else 100 * c["se"],
                    "verdict": c["outcome"], "seed": local(lang, c["seed_verdict"]),
                    "group": "claims"})
    by = {r["experiment"]: r for r in rows}
    base = by.get("c50-baseline")
    for claim in study.CLAIMS:
        r = by.get(claim["id"])
        if r is None or base is None or not r["n_done"] or not base["n_done"]:
            continue
        c = compare(r, base)
        if c["diff"] is None:
            continue
        sv = claim["seed_verdict"]
        out.append({"label": claim["claim"][lang],
                    "diff": 100 * c["diff"], "se": None if c["se"] is None else 100 * c["se"],
                    "verdict": c["verdict"], "seed": local(lang, sv) if sv else "", "group": "techniques"})
    df = pd.DataFrame(out, columns=["label", "diff", "se", "verdict", "seed", "group"])
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


def overview_blocks(lang: str = "en", root=None) -> list:
    from core.caltech.report import best_summary, techniques_table
    from experiments import CLAIMS
    rows = experiment_rows(root)
    forest = forest_frame(lang, rows)
    blocks = [
        ("h1", tx(lang, "overview.title")),
        ("md", tx(lang, "overview.intro")),
        *left_out_blocks(lang, rows),
        ("metrics", headline_metrics(lang, rows)),
        ("h2", tx(lang, "overview.claims.title")),
    ]
    if not forest.empty:
        claims = forest[forest["group"] == "claims"]
        techs = forest[forest["group"] == "techniques"]
        blocks += [("md", tx(lang, "overview.claims.text"))]
        if not claims.empty:
            blocks += [("h3", tx(lang, "overview.claims.mnist")), ("chart", _forest(lang, claims))]
        if not techs.empty:
            blocks += [("h3", tx(lang, "overview.claims.c50")), ("chart", _forest(lang, techs))]
    blocks += [
        *((("md", line),) if (line := best_summary(lang, rows)) else ()),
        ("h2", tx(lang, "overview.details.title")),
        ("md", tx(lang, "overview.details.text")),
        ("table", claims_table(lang, [c for c in CLAIMS if "technique" not in c], rows)),
        ("h3", tx(lang, "overview.details.c50")),
        ("md", tx(lang, "overview.details.c50-text")),
        ("table", techniques_table(lang, rows)),
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


MNIST_GROUPS = ("mnist-seed", "mnist-control", "mnist-fair")  # sections, each titled by mnist.<seed|...>.title


def mnist_blocks(lang: str = "en", root=None) -> list:
    from core import charts
    from experiments import CLAIMS, EXPERIMENTS
    rows = [r for r in experiment_rows(root, include_app=True, lang=lang) if r["group"].startswith("mnist-")]
    study = [r for r in rows if r["origin"] == "study"]
    blocks = [("h1", tx(lang, "mnist.title")), ("md", tx(lang, "mnist.intro")), *left_out_blocks(lang, rows)]
    for group in MNIST_GROUPS:
        g = [r for r in rows if r["group"] == group and r["n_done"]]
        if not g:
            continue
        section = group.removeprefix("mnist-")
        acc = accuracy_points(g, lang)
        table = pd.DataFrame([{
            tx(lang, "tables.experiment"): r["experiment"],
            tx(lang, "tables.what"): r["title_zh" if lang == "zh" else "title"],
            tx(lang, "tables.train-val"): f"{r['n_train']:,} / {r['n_val']:,}",
            tx(lang, "mnist.epochs"): f"{r['epochs']} ({r['epochs_run_mean']:.1f})",
            tx(lang, "mnist.seed-acc"): None if r["reference"] is None else round(100 * r["reference"], 2),
            tx(lang, "mnist.ours"): figure(r["test_acc_mean"], r["test_acc_std"], r["n_done"], lang, count=False),
            tx(lang, "tables.min-max"): f"{100 * r['test_acc_min']:.2f} – {100 * r['test_acc_max']:.2f}",
            tx(lang, "tables.seeds"): r["n_done"],
            tx(lang, "tables.s-epoch"): round(r["sec_per_epoch"], 1) if r["sec_per_epoch"] else None,
        } for r in g])
        curves = charts.curves_frame(g)
        # The key, the test accuracies and the curves in one piece (the app
        # draws the dots and the curves as one view), the figures after them.
        blocks += [
            ("h2", tx(lang, f"mnist.{section}.title")), ("md", tx(lang, f"mnist.{section}.text")),
            ("key", charts.curves_key(curves)),
            ("chart", charts.accuracy_bars(acc, tx(lang, "tables.axis-test-accuracy"), lang=lang)),
            ("row", charts.curves_panel(curves, {
                "val_accuracy": tx(lang, "tables.curve-val-accuracy"),
                "val_loss": tx(lang, "tables.curve-val-loss"),
                "gap_accuracy": tx(lang, "tables.curve-gap")}, lang=lang)),
            ("table", table),
        ]
    mnist_claims = [c for c in CLAIMS if c["page"] == "app_pages/mnist.py"]
    blocks += [("h2", tx(lang, "mnist.claims")),
               ("table", claims_table(lang, mnist_claims, study).drop(columns=["page"])),
               ("md", verdict_rule(lang)),
               ("h2", tx(lang, "mnist.models")),
               ("md", tx(lang, "mnist.models-text"))]
    seen = set()
    for name, get in EXPERIMENTS.items():
        model = get(False)["model"]["name"]
        if name.startswith("mnist-") and model not in seen and model != "tiny_test_net":
            seen.add(model)
            blocks += model_blocks(lang, model_summary(model), model)
    return blocks


def _summary_mean(paths, *keys):
    """Mean over runs of summary[keys...] (None where absent)."""
    from core.records import Run
    vals = []
    for p in paths:
        node = Run(__import__("pathlib").Path(p)).summary or {}
        for k in keys:
            node = node.get(k) if isinstance(node, dict) else None
        if isinstance(node, (int, float)):
            vals.append(node)
    return sum(vals) / len(vals) if vals else None


def _audit_blocks(lang: str, done: list[dict], scores: dict, files: tuple) -> list:
    """Accuracy on the audited test labels, beside (never instead of) the given
    ones, with how many of each model's failures a person has looked at
    (`scores`: _scores; `files`: the audit files they were scored against)."""
    out, corrected = [], 0
    for r in done:
        accs = scores.get(r["experiment"], [])
        if accs:
            corrected = max(corrected, *(a["labels_corrected"] for a in accs))
            out.append({tx(lang, "tables.experiment"): r["experiment"], **_audit_cells(lang, accs)})
            ens = _ensemble_row(lang, r, files)
            if ens:
                ens.pop(tx(lang, "tables.seeds"))
                out.append(ens)
    if not out or not corrected:
        return []
    return [("md", tx(lang, "captcha_models.audit.text", corrected=corrected)), ("table", pd.DataFrame(out))]


def _blind_audit_blocks(lang: str) -> list:
    """Label noise measured without a model's lean (core/captcha/audit.py:BLIND_AUDIT)."""
    from core.captcha import audit
    from core.captcha.recognizer import DEFAULT_RUN
    from core.records import REPO_ROOT
    if not audit.BLIND_AUDIT.is_file():
        return []
    b = audit.blind_summary(predictions_csv=REPO_ROOT / "runs" / DEFAULT_RUN / "predictions.csv")
    pct = lambda v: f"{100 * v:.1f}"  # noqa: E731
    return [("h3", tx(lang, "captcha_models.blind.title")),
            ("md", tx(lang, "captcha_models.blind.text", n=b["n"], wrong=b["label_wrong"], noise=pct(b["noise"]),
                      low=pct(b["noise_low"]), high=pct(b["noise_high"]), ambiguous=b["ambiguous"],
                      given=f"{100 * b.get('model_exact_as_given', 0):.1f}",
                      audited=f"{100 * b.get('model_exact_audited', 0):.1f}", run=DEFAULT_RUN))]


def _cross_source_blocks(lang: str, rows: list[dict], scores: dict, files: tuple) -> list:
    """Leave one source out: each run's test set is a whole captcha set it never saw."""
    from core.captcha import relabel
    from experiments import EXPERIMENTS
    if not rows:
        return []
    table = []
    for r in rows:
        cfg = EXPERIMENTS[r["declared"]](False)
        table.append({
            tx(lang, "tables.experiment"): r["experiment"],
            tx(lang, "captcha_models.xsrc.tested-on"): f"{cfg['data']['test_source']} ({_n_test(r):,})",
            tx(lang, "captcha_models.xsrc.undo"): tx(lang, "captcha_models.xsrc.yes")
            if cfg["data"].get("preprocess_options", {}).get("undo_arc") else tx(lang, "captcha_models.xsrc.no"),
            tx(lang, "captcha_models.xsrc.labels"): relabel.path_of(cfg["data"]["relabel"]["name"]).stem
            if cfg["data"].get("relabel") else tx(lang, "captcha_models.xsrc.labels-given"),
            tx(lang, "tables.seeds"): r["n_done"],
            **_audit_cells(lang, scores.get(r["experiment"], [])),
        })
        ens = _ensemble_row(lang, r, files)
        if ens:
            table.append({**table[-1], **ens})
    return [("h3", tx(lang, "captcha_models.xsrc.title")), ("md", tx(lang, "captcha_models.xsrc.text")),
            ("table", pd.DataFrame(table))]


def _ensemble_row(lang: str, row: dict, audit_files: tuple) -> dict | None:
    """The cells of the experiment's seed ensemble (core/captcha/ensemble.py),
    its predictions scored against today's audit files; None without a
    current ensemble record."""
    from pathlib import Path

    from core.captcha import audit, ensemble
    from core.records import Run
    if len(row["run_paths"]) < 2:
        return None
    folder = Path(row["run_paths"][0]).parent
    rec = ensemble.read(folder, {Run(Path(p)).ref for p in row["run_paths"]})
    if rec is None:
        return None
    acc = audit.accuracy(folder / rec.get("predictions", ensemble.PREDICTIONS), *audit_files)
    return {tx(lang, "tables.experiment"): tx(lang, "captcha_models.ensemble-name", experiment=row["experiment"],
                                              n=len(rec["members"])),
            tx(lang, "tables.seeds"): len(rec["members"]), **_audit_cells(lang, [acc])}


def _n_test(row: dict) -> int:
    from pathlib import Path

    from core.records import Run
    return (Run(Path(row["run_paths"][0])).summary or {}).get("n_test", 0)


FAILURE_COLUMNS = ("image", "label", "truth", "prediction", "wrong positions", "confidence_min", "run")


def failures_table(lang: str, failures: pd.DataFrame) -> pd.DataFrame:
    """core.captcha.views.failures with its columns in `lang`."""
    return failures.rename(columns={c: tx(lang, f"captcha_models.failures.{slug(c)}")
                                    for c in FAILURE_COLUMNS if c in failures})


def _captcha_lead(lang: str, figures: dict) -> str:
    """The page's first words: what the reader reads, then (where runs hold
    them) the shipped reader's figure and the one on a crawl never trained on."""
    parts = [tx(lang, "captcha_models.lead")]
    if "default" in figures:
        run, audited, given, _ = figures["default"]
        parts.append(tx(lang, "captcha_models.lead-default", run=run, audited=f"{100 * audited:.2f}",
                        given=f"{100 * given:.2f}"))
    if "xsrc" in figures and "default" in figures:
        acc, experiment, _ = figures["xsrc"][0]
        parts.append(tx(lang, "captcha_models.lead-xsrc", acc=f"{100 * acc:.2f}", experiment=experiment))
    return "".join(parts)  # each part brings its own space (none between Chinese sentences)


def _audited_points(done: list[dict], given: pd.DataFrame, scores: dict) -> pd.DataFrame:
    """The accuracy dots on the audited labels: each experiment's runs that
    stored their test predictions (`scores`: _scores), the rows of `given`
    (the labels-as-given points) naming the rest."""
    import statistics

    out = []
    for r, (_, point) in zip(done, given.iterrows()):
        accs = [100 * a["exact_match_audited"] for a in scores.get(r["experiment"], [])]
        if accs:
            out.append({**point.to_dict(), "mean": statistics.fmean(accs),
                        "std": statistics.stdev(accs) if len(accs) > 1 else float("nan"), "seeds": len(accs)})
    return pd.DataFrame(out)


def captcha_models_blocks(lang: str = "en", root=None) -> list:
    from core import charts
    from pathlib import Path

    from core.captcha import ALPHABET
    from core.captcha import views
    from core.records import Run
    from experiments import EXPERIMENTS

    every = [r for r in experiment_rows(root, include_app=True, lang=lang) if r["group"].startswith("captcha-")]
    # What a reader came for first: what the reader reads and how well the
    # one they get does; how the models came about is further down.
    from core.captcha import audit
    files = audit.load_audit(), audit.reviewed()
    scores = _scores(every, files)
    figures = captcha_figures(every, scores)
    blocks = [("h1", tx(lang, "captcha_models.title")), ("md", _captcha_lead(lang, figures)),
              *((("metrics", cards),) if (cards := captcha_cards(lang, every, figures)) else ()),
              *left_out_blocks(lang, every)]
    # Runs tested on another source have another test set: a section of their own.
    rows = [r for r in every if r["group"] != "captcha-xsrc"]
    done = [r for r in rows if r["n_done"]]
    if not done:
        blocks.append(("md", tx(lang, "captcha_models.no-runs")))
    table = []
    for r in done:
        ref = EXPERIMENTS[r["declared"]](False).get("reference") or {} if r["origin"] == "study" else {}
        paths = r["run_paths"]
        # validation exact match on the audited labels (logged by newer runs), never the raw figure,
        # which label noise caps below 99 %
        reach = [views.time_to_reach(Run(Path(p)).history, "val_exact_match_audited") for p in paths]
        reach = [x for x in reach if x]
        spe = r["sec_per_epoch"]
        table.append({
            tx(lang, "tables.experiment"): r["experiment"],
            tx(lang, "captcha_models.ours"):
                figure(r["test_acc_mean"], r["test_acc_std"], r["n_done"], lang),
            tx(lang, "captcha_models.seed-image"):
                round(100 * ref["exact_match"], 2) if ref.get("exact_match") else None,
            tx(lang, "captcha_models.ours-char"):
                round(100 * (_summary_mean(paths, "test", "char_accuracy") or 0), 2),
            tx(lang, "captcha_models.seed-char"):
                round(100 * ref["char_accuracy"], 2) if ref.get("char_accuracy") else None,
            tx(lang, "captcha_models.ms-single"):
                round(_summary_mean(paths, "test", "ms_per_image_single_median") or float("nan"), 2),
            tx(lang, "captcha_models.ms-batched"):
                round(_summary_mean(paths, "test", "model_ms_per_image_batched") or float("nan"), 2),
            tx(lang, "captcha_models.seed-ms"): ref.get("ms_per_image"),
            tx(lang, "captcha_models.params"): r["params"],
            tx(lang, "captcha_models.train-rate"):
                round(r["n_train"] / spe) if spe and r["n_train"] else None,
            tx(lang, "captcha_models.reach"):
                (tx(lang, "captcha_models.reach-value", minutes=f"{min(x[1] for x in reach) / 60:.0f}",
                    epoch=min(reach, key=lambda x: x[1])[0]) if reach else "–"),
        })
    if table:
        acc = accuracy_points(done, lang)
        heads = {f"val_fc13_W{i}_accuracy": tx(lang, "captcha_models.curves.head", i=i) for i in range(1, 5)}
        curves = charts.curves_frame(done, metrics=("val_loss", "val_exact_match", *heads))
        audited = _audited_points(done, acc, scores)
        blocks += [
            ("h2", tx(lang, "captcha_models.results")),
            *((("chart", charts.accuracy_bars(audited, tx(lang, "captcha_models.axis-audited"), lang=lang)),)
              if not audited.empty else
              (("chart", charts.accuracy_bars(acc, tx(lang, "captcha_models.axis-image-accuracy"), lang=lang)),)),
            ("table", pd.DataFrame(table)),
            *_audit_blocks(lang, done, scores, files),
            *_blind_audit_blocks(lang),
            *_cross_source_blocks(lang, [r for r in every if r["group"] == "captcha-xsrc" and r["n_done"]],
                                  scores, files),
            ("md", tx(lang, "captcha_models.times")),
        ]
        bench = []
        for r in done:
            for p in r["run_paths"]:
                f = Path(p) / "bench.json"
                if f.is_file():
                    b = json.loads(f.read_text())
                    note = b.get("note", "")
                    bench.append({
                        tx(lang, "captcha_models.bench.run"): f"{r['experiment']}/{Path(p).name}",
                        tx(lang, "captcha_models.bench.single"): round(b["single_ms_median"], 2),
                        "p90": round(b["single_ms_p90"], 2),
                        tx(lang, "captcha_models.bench.runner"): b.get("single_runner"),
                        tx(lang, "captcha_models.bench.batched"): round(b["batched_images_per_second"]),
                        tx(lang, "captcha_models.bench.images"): b["n"],
                        tx(lang, "captcha_models.bench.measured"): b.get("measured", "")[:10],
                        tx(lang, "captcha_models.bench.conditions"):
                            lookup(lang, f"captcha_models.bench-note.{slug(note)}", note) if note else note})
        if bench:
            blocks += [("h3", tx(lang, "captcha_models.bench.title")), ("md", tx(lang, "captcha_models.bench.text")),
                       ("table", pd.DataFrame(bench))]
        robust = views.robustness_table({r["experiment"]: r["run_paths"] for r in done}, lang)
        if not robust.empty:
            blocks += [("h3", tx(lang, "captcha_models.robustness.title")),
                       ("md", tx(lang, "captcha_models.robustness.text")),
                       ("table", robust)]
        blocks += [
            ("h2", tx(lang, "captcha_models.curves.title")),
            ("key", charts.curves_key(curves)),
            ("row", charts.curves_panel(curves, heads, lang=lang)),
            ("row", charts.curves_panel(curves, {
                "val_exact_match": tx(lang, "captcha_models.curves.exact"),
                "val_loss": tx(lang, "captcha_models.curves.loss")}, lang=lang)),
        ]
        # Confusions and failures of two models, not all seven (near-identical
        # sections made the page 12,500 px tall): the default reader and the
        # seed's best; the others come from `python -m core.captcha audit --run`.
        from core.captcha.recognizer import DEFAULT_RUN
        seeds = [r for r in done if r["experiment"].startswith("captcha-seed-")]
        shown = {DEFAULT_RUN.split("/")[0]} | (
            {max(seeds, key=lambda r: r["test_acc_mean"])["experiment"]} if seeds else set())
        others = [r["experiment"] for r in done if r["experiment"] not in shown]
        if others:
            blocks.append(("md", tx(lang, "captcha_models.confusions.others", names=", ".join(others))))
        for r in (r for r in done if r["experiment"] in shown):
            pred = views.read_predictions(r["run_paths"])
            if pred.empty:
                continue
            conf = views.confusions(pred)
            blocks += [("h3", tx(lang, "captcha_models.confusions.title", experiment=r["experiment"]))]
            if not conf.empty:
                blocks.append(("chart", charts.confusion_heatmap(
                    conf, ALPHABET, tx(lang, "captcha_models.confusions.true"),
                    tx(lang, "captcha_models.confusions.predicted"), lang=lang)))
            blocks += [("md", tx(lang, "captcha_models.failures.text", n=r["n_done"])),
                       ("table", failures_table(lang, views.failures(pred, 12)))]
    blocks += [("h2", tx(lang, "captcha_models.history.title")), ("md", tx(lang, "captcha_models.history")),
               ("h2", tx(lang, "captcha_models.models"))]
    seen = set()
    for name, get in EXPERIMENTS.items():
        model = get(False)["model"]["name"]
        if name.startswith("captcha-") and model not in seen:
            seen.add(model)
            blocks += model_blocks(lang, model_summary(model), model)
    return blocks


def group_blocks(group: str, lang: str = "en", root=None) -> list:
    """The page of a study declared with experiments.declare(): every
    experiment's accuracy over its seeds, each against the declared baseline
    with our verdict rule, and the training curves. Built from the runs alone,
    so a new study needs no page file."""
    from core.caltech.report import _accuracy_chart, _curves_blocks
    from experiments import GROUPS
    spec = GROUPS[group]
    rows = [r for r in experiment_rows(root, include_app=True, lang=lang) if r["group"] == group]
    blocks = [("h1", local(lang, spec["title"]))]
    if spec.get("text"):
        blocks.append(("md", local(lang, spec["text"])))
    blocks += left_out_blocks(lang, rows)
    done = [r for r in rows if r["n_done"]]
    names = " ".join(spec["experiments"])
    if not done:
        return blocks + [("md", tx(lang, "groups.no-runs", names=names, group=group))]
    base = next((r for r in rows if r["experiment"] == spec["baseline"]), None)
    table = []
    for r in rows:
        c = compare(r, base) if base is not None and r is not base else None
        table.append({
            tx(lang, "tables.experiment"): r["experiment"],
            tx(lang, "tables.what"): r["title_zh" if lang == "zh" else "title"],
            tx(lang, "tables.seeds"): r["n_done"],
            tx(lang, "tables.test-acc"):
                figure(r["test_acc_mean"], r["test_acc_std"], r["n_done"], lang, count=False),
            tx(lang, "tables.delta"): None if c is None or c["diff"] is None else round(100 * c["diff"], 2),
            tx(lang, "tables.se"): None if c is None or c["se"] is None else round(100 * c["se"], 2),
            tx(lang, "tables.our-verdict"): (tx(lang, "groups.baseline") if r is base else
                                             None if c is None else _v(lang, c["verdict"])),
            tx(lang, "tables.s-epoch"): None if r["sec_per_epoch"] is None else round(r["sec_per_epoch"], 1),
        })
    return blocks + [
        ("h2", tx(lang, "groups.results")),
        ("md", tx(lang, "groups.results-text", baseline=spec["baseline"])),
        ("chart", _accuracy_chart(lang, done)),
        ("table", pd.DataFrame(table)),
        ("md", verdict_rule(lang)),
        ("h2", tx(lang, "groups.curves")),
        *_curves_blocks(lang, done),
    ]


def page_function(key: str):
    """The blocks function of a report page: a built-in page's, or for
    "group:<name>" the page of a study declared with experiments.declare()."""
    if key.startswith("group:"):
        import functools
        return functools.partial(group_blocks, key.removeprefix("group:"))
    return dict(PAGES)[key]


def _technique_pages():
    from core.caltech.report import page_functions
    return tuple(page_functions())


PAGES = (("overview", overview_blocks), ("mnist", mnist_blocks), ("captcha-models", captcha_models_blocks),
         *_technique_pages())
