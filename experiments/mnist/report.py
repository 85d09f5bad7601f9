"""The MNIST study's report page (seed 002, part I) and its part of the
Overview: the seed's protocols reproduced, the controls, a fair comparison,
and the seed's claims as verdicts. Same content model as every report page
(core/report.py)."""
from __future__ import annotations

import pandas as pd

from core.blocks import left_out_blocks, model_blocks, model_summary, tx, verdict_rule
from core.report import claim_forest, claims_table
from core.results import accuracy_points, experiment_rows, figure


MNIST_GROUPS = ("mnist-seed", "mnist-control", "mnist-fair")  # sections, each titled by mnist.<seed|...>.title


def mnist_blocks(lang: str = "en", root=None) -> list:
    from core import charts
    from experiments.mnist import CLAIMS, EXPERIMENTS
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
    mnist_claims = list(CLAIMS)
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


# --- the Overview's part ---------------------------------------------------------------

def cards(lang: str, rows: list[dict]) -> list[dict]:
    """The Overview's card: the best CNN of the fair comparison (and the best dense net)."""
    fair = [r for r in rows if r["group"] == "mnist-fair" and r["n_done"]]
    cnns = [r for r in fair if not r["model"].startswith("mnist_nn")]  # the dense nets are mnist_nn*
    if not cnns:
        return []
    best = max(cnns, key=lambda r: r["test_acc_mean"])
    dense = max((r for r in fair if r not in cnns), key=lambda r: r["test_acc_mean"], default=None)
    caption = {"experiment": best["experiment"], "n": best["n_done"]}
    return [{"label": tx(lang, "overview.metric-mnist.label"),
             "value": f"{100 * best['test_acc_mean']:.2f} %",
             "caption": tx(lang, "overview.metric-mnist.caption", **caption) if dense is None else
             tx(lang, "overview.metric-mnist.caption-dense", **caption,
                dense=f"{100 * dense['test_acc_mean']:.2f}"),
             "help": tx(lang, "overview.metric-mnist.help")}]


def overview(lang: str, rows: list[dict]) -> dict:
    """Seed 002's claims as a forest plot and as the conclusions table."""
    from experiments.mnist import CLAIMS
    return {"forest": [(tx(lang, "overview.claims.mnist"), claim_forest(lang, CLAIMS, rows))],
            "details": [("table", claims_table(lang, CLAIMS, rows))]}
