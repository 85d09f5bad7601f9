"""The captcha study's report pages (seed 002, part II): the Models page and
the cards the Overview and that page show. Same content model as every
report page (core/report.py): the app renders these blocks, every export
writes them. Every figure is read from the runs' records and predictions.
"""
from __future__ import annotations

import json

import pandas as pd

from core.blocks import left_out_blocks, lookup, model_blocks, model_summary, slug, tx
from core.results import accuracy_points, experiment_rows, figure


def _audited(paths: list[str], audit_files: tuple | None = None) -> list[dict]:
    """experiments.captcha.audit.accuracy of each run that stored its test predictions;
    `audit_files` (load_audit(), reviewed()) when the caller has them already."""
    from pathlib import Path

    from experiments.captcha import audit
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


def _scores(rows: list[dict], audit_files: tuple | None = None) -> dict[str, list[dict]]:
    """_audited for each finished row, by its experiment: scored once for
    every section of a page that shows them."""
    from experiments.captcha import audit
    files = audit_files or (audit.load_audit(), audit.reviewed())
    return {r["experiment"]: _audited(r["run_paths"], files) for r in rows if r["n_done"]}


def captcha_figures(rows: list[dict], scores: dict | None = None) -> dict:
    """The captcha's headline figures, each from its runs' stored test
    predictions scored on the audited labels (`scores`, _scores of the rows
    when the caller has them): "default", the reader a user gets on the
    held-out split (run, audited, as given, seeds); "xsrc", its recipe on a
    crawl never trained on (configs.SHIPPED_CROSS_SOURCE, one leave-one-source-out
    direction each), weakest first (accuracy, experiment, seeds, images)."""
    from experiments.captcha.configs import SHIPPED_CROSS_SOURCE
    from experiments.captcha.recognizer import DEFAULT_RUN
    default = DEFAULT_RUN.split("/")[0]
    if scores is None:
        scores = _scores([r for r in rows if r["experiment"] in (default, *SHIPPED_CROSS_SOURCE)])
    out: dict = {}
    accs = scores.get(default, [])
    if accs:
        out["default"] = (default, sum(a["exact_match_audited"] for a in accs) / len(accs),
                          sum(a["exact_match"] for a in accs) / len(accs), len(accs))
    xsrc = []
    for experiment in SHIPPED_CROSS_SOURCE:
        accs = scores.get(experiment, [])
        if accs:
            xsrc.append((sum(a["exact_match_audited"] for a in accs) / len(accs), experiment, len(accs),
                         min(a["n"] for a in accs)))
    if xsrc:
        out["xsrc"] = sorted(xsrc)
    return out


def _interval(acc: float, images: int) -> str:
    """The 95 % (Wilson) interval of one network's exact match on `images`
    captchas, at the seeds' mean."""
    from experiments.captcha.audit import _wilson
    low, high = _wilson(acc * images, images)
    return f"{100 * low:.2f}–{100 * high:.2f}"


def captcha_cards(lang: str, rows: list[dict], figures: dict | None = None) -> list[dict]:
    """The captcha's cards of the Overview and of its Models page
    (captcha_figures): first what the shipped reader's recipe reads on a
    crawl it never saw, then the shipped run on our own split."""
    f = captcha_figures(rows) if figures is None else figures
    out = []
    if "xsrc" in f:
        (acc, experiment, n, images), high = f["xsrc"][0], f["xsrc"][-1]
        caption = tx(lang, "overview.metric-xsrc.caption", experiment=experiment, n=n, images=f"{images:,}",
                     interval=_interval(acc, images))
        if high[1] != experiment:
            caption += tx(lang, "overview.metric-xsrc.caption-other", other_acc=f"{100 * high[0]:.2f}")
        out.append({"label": tx(lang, "overview.metric-xsrc.label"), "value": f"{100 * acc:.2f} %",
                    "caption": caption, "help": tx(lang, "overview.metric-xsrc.help")})
    if "default" in f:
        run, audited, given, n = f["default"]
        out.append({"label": tx(lang, "overview.metric-captcha.label"), "value": f"{100 * audited:.2f} %",
                    "caption": tx(lang, "overview.metric-captcha.caption", run=run, n=n, given=f"{100 * given:.2f}"),
                    "help": tx(lang, "overview.metric-captcha.help")})
    return out


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
    """Label noise measured without a model's lean (experiments/captcha/audit.py:BLIND_AUDIT)."""
    from experiments.captcha import audit
    from experiments.captcha.recognizer import DEFAULT_RUN
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
    from experiments.captcha import relabel
    from experiments.captcha import EXPERIMENTS
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
            tx(lang, "captcha_models.xsrc.teachers"): (cfg["data"].get("distill") or {}).get("teachers", "–"),
            tx(lang, "tables.seeds"): r["n_done"],
            **_audit_cells(lang, scores.get(r["experiment"], [])),
        })
        ens = _ensemble_row(lang, r, files)
        if ens:
            table.append({**table[-1], **ens})
    return [("h3", tx(lang, "captcha_models.xsrc.title")), ("md", tx(lang, "captcha_models.xsrc.text")),
            ("table", pd.DataFrame(table))]


def _unsure_blocks(lang: str, figures: dict, rows: list[dict], audit_files: tuple) -> list:
    """Coverage against accuracy when the reader may answer "unsure": for the
    shipped reader's recipe in each leave-one-source-out direction (captcha_figures), its
    seeds' test readings pooled and scored on the audited labels."""
    from pathlib import Path

    from core import charts
    from experiments.captcha import confidence
    by = {r["experiment"]: r for r in rows}
    curves, table = [], []
    for _, experiment, *_ in figures.get("xsrc", []):
        scores = [s for p in by[experiment]["run_paths"] if (Path(p) / "predictions.csv").is_file()
                  for s in confidence.scored(Path(p) / "predictions.csv", audit_files[0])]
        if not scores:
            continue
        points = confidence.curve(scores)
        curves += [{"experiment": experiment, "coverage": round(100 * g["at"], 1),
                    "accuracy": round(100 * g["accuracy"], 3), "threshold": round(g["threshold"], 4)}
                   for g in confidence.grid(points, start=0.95, step=0.0005)]
        sure = confidence.coverage_for(points, 0.999)
        table.append({
            tx(lang, "tables.experiment"): experiment,
            tx(lang, "captcha_models.unsure.images"): f"{len(scores):,}",
            tx(lang, "captcha_models.unsure.all"): round(100 * points[-1]["accuracy"], 2),
            **{tx(lang, "captcha_models.unsure.at", coverage=c): round(100 * confidence.at_coverage(points, c / 100)
                                                                         ["accuracy"], 2) for c in (99, 98, 95)},
            tx(lang, "captcha_models.unsure.for-999"): "–" if sure is None else round(100 * sure["coverage"], 2),
            tx(lang, "captcha_models.unsure.threshold"): "–" if sure is None else f"{sure['threshold']:.4f}",
        })
    if not table:
        return []
    df = pd.DataFrame(curves)
    chart = charts.lines(df, "coverage", "accuracy", "experiment", tx(lang, "captcha_models.unsure.axis-coverage"),
                         tx(lang, "captcha_models.unsure.axis-accuracy"), tooltip=list(df.columns), lang=lang)
    return [("h3", tx(lang, "captcha_models.unsure.title")), ("md", tx(lang, "captcha_models.unsure.text")),
            ("chart", chart), ("table", pd.DataFrame(table))]


def _ensemble_row(lang: str, row: dict, audit_files: tuple) -> dict | None:
    """The cells of the experiment's seed ensemble (experiments/captcha/ensemble.py),
    its predictions scored against today's audit files; None without a
    current ensemble record."""
    from pathlib import Path

    from experiments.captcha import audit, ensemble
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
    """experiments.captcha.views.failures with its columns in `lang`."""
    return failures.rename(columns={c: tx(lang, f"captcha_models.failures.{slug(c)}")
                                    for c in FAILURE_COLUMNS if c in failures})


def _captcha_lead(lang: str, figures: dict) -> str:
    """The page's first words: what the reader reads, then (where runs hold
    them) what its recipe reads on a crawl never trained on, then the
    shipped run's figure on our own split."""
    parts = [tx(lang, "captcha_models.lead")]
    if "xsrc" in figures:
        (acc, experiment, n, images), high = figures["xsrc"][0], figures["xsrc"][-1]
        parts.append(tx(lang, "captcha_models.lead-xsrc", acc=f"{100 * acc:.2f}", experiment=experiment, n=n,
                        images=f"{images:,}", interval=_interval(acc, images), other=f"{100 * high[0]:.2f}"))
    if "default" in figures:
        run, audited, given, _ = figures["default"]
        parts.append(tx(lang, "captcha_models.lead-default", run=run, audited=f"{100 * audited:.2f}",
                        given=f"{100 * given:.2f}"))
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


def _cold_start(b: dict) -> str:
    """A bench record's cold start: "0.087 s, 67 MiB", with the other
    reader's wall time in brackets where one was measured against it."""
    if not isinstance(b.get("cold_start_s_median"), (int, float)):
        return ""
    text = f"{b['cold_start_s_median']:.3f} s"
    if isinstance(b.get("cold_peak_mib"), (int, float)):
        text += f", {b['cold_peak_mib']:.0f} MiB"
    if isinstance(b.get("against_s_median"), (int, float)):
        text += f" ({b['against_s_median']:.3f} s)"
    return text


def captcha_models_blocks(lang: str = "en", root=None) -> list:
    from core import charts
    from pathlib import Path

    from experiments.captcha.labels import ALPHABET
    from experiments.captcha import views
    from core.records import Run
    from experiments.captcha import EXPERIMENTS

    every = [r for r in experiment_rows(root, include_app=True, lang=lang) if r["group"].startswith("captcha-")]
    # What a reader came for first: what the reader reads and how well the
    # one they get does; how the models came about is further down.
    from experiments.captcha import audit
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
            *_unsure_blocks(lang, figures, every, files),
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
                        tx(lang, "captcha_models.bench.cold"): _cold_start(b),
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
        crawl = views.crawl_robustness_table(
            {r["experiment"]: r["run_paths"] for r in every if r["n_done"]}, lang)
        if not crawl.empty:
            blocks += [("h3", tx(lang, "captcha_models.crawl-robustness.title")),
                       ("md", tx(lang, "captcha_models.crawl-robustness.text")),
                       ("table", crawl)]
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
        # seed's best; the others come from `python -m experiments.captcha audit --run`.
        from experiments.captcha.recognizer import DEFAULT_RUN
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
