"""python -m experiments {list,run,show,runs,report,plan,import}: the one command line for training.

Exit codes:
  0    every run asked for is done (trained now, or already done)
  1    a run failed, or its folder holds damaged records (named on stderr);
       the other runs still train
  2    bad usage: unknown experiment, bad option or config value, missing data,
       a report that cannot be written
  3    a run is being trained by another process (it holds the run's lock):
       nothing was trained for it; the other runs still train
  130  interrupted (Ctrl-C, SIGTERM, the app's Cancel): rerun to resume
"""
from __future__ import annotations

import argparse
import fnmatch
import json
import os
import signal
import sys

from core.config import ConfigError, set_path, validate
from core.importers import FORMATS as IMPORT_FORMATS
from core.record_schema import OWN_METRICS, SEED_MAX
from core.records import find_run, holder, list_runs, run_id, runs_dir


def _die(msg: str, code: int = 2):
    print(f"error: {msg}", file=sys.stderr)
    sys.exit(code)


def cmd_list(args):
    from experiments import EXPERIMENTS, get_config
    from core.records import config_hash
    runs = list_runs(args.runs_dir)
    print(f"{'experiment':24} {'group':11} {'model':16} {'epochs':>6} {'done':>4}  title")
    for name in EXPERIMENTS:
        cfg = get_config(name)
        h = config_hash({**cfg, "seed": 0})
        done = sum(1 for r in runs if r.experiment == name and r.id.endswith(h)
                   and r.status == "done")
        print(f"{name:24} {cfg.get('group', ''):11} {cfg['model']['name']:16} "
              f"{cfg['train']['epochs']:>6} {done:>4}  {cfg.get('title', '')}")


def _configs_for(args) -> list[dict]:
    from experiments import EXPERIMENTS, UnknownExperiment, get_config
    base = []
    if args.config:
        try:
            with open(args.config, "rb") as f:
                loaded = json.loads(f.read().decode("utf-8"))
        except (OSError, UnicodeDecodeError, ValueError) as e:
            _die(f"cannot read config {args.config}: {e}")
        if not isinstance(loaded, dict):
            _die(f"config {args.config} must hold a JSON object, not {type(loaded).__name__}")
        base.append(loaded)
    for pattern in args.names:
        names = fnmatch.filter(EXPERIMENTS, pattern) if any(c in pattern for c in "*?[") else [pattern]
        if not names:
            _die(f"no experiment matches {pattern!r}")
        for name in names:
            try:
                base.append(get_config(name, quick=args.quick))
            except UnknownExperiment as e:
                _die(e.args[0])
    if not base:
        _die("name an experiment (see `python -m experiments list`) or pass --config FILE")
    if getattr(args, "workers", 1) < 1:
        _die(f"--workers {args.workers}: at least one worker")
    if getattr(args, "address", None) and args.executor != "dask":
        _die("--address goes with --executor dask")
    if args.epochs is not None and args.epochs < 1:
        _die(f"--epochs {args.epochs}: the epoch budget must be at least 1")
    if args.seeds < 1:
        _die(f"--seeds {args.seeds}: give the number of seeds to run, at least 1")
    # NumPy and Keras take unsigned 32-bit seeds: a larger one would start
    # the run and fail inside it, so it is refused here, before anything starts.
    bad = [s for s in args.seed or [] if not 0 <= s <= SEED_MAX]
    if bad:
        _die(f"--seed {bad[0]}: seeds are integers from 0 to {SEED_MAX} (2**32 - 1)")
    if args.seeds > SEED_MAX + 1:
        _die(f"--seeds {args.seeds}: seeds run from 0 to {SEED_MAX} (2**32 - 1), "
             f"so at most {SEED_MAX + 1} of them")
    seeds = args.seed if args.seed else list(range(args.seeds))
    out = []
    for cfg in base:
        try:
            for kv in args.set or []:
                if "=" not in kv:
                    raise ConfigError(f"--set {kv!r}: expected key=value")
                key, value = kv.split("=", 1)
                cfg = set_path(cfg, key, value)
            if args.epochs is not None:
                cfg = set_path(cfg, "train.epochs", str(args.epochs))
            for s in seeds:
                out.append(validate({**cfg, "seed": s}))
        except ConfigError as e:
            _die(f"bad config for {cfg.get('experiment', args.config)}: {e}")
    if getattr(args, "seed_first", False):
        # Every experiment's seed 0 before any seed 1: a study cut short still
        # covers every variant.
        out.sort(key=lambda c: c["seed"])  # stable: keeps the experiments' order
    return out


def cmd_run(args):
    from core.executor import run_dask, train_one
    from experiments import EXPERIMENTS, get_config
    configs = _configs_for(args)
    # Keep the last training state of runs that a declared experiment goes on from.
    parents = {get_config(n)["train"].get("continue_from") for n in EXPERIMENTS}
    verbose = args.verbose if args.verbose is not None else (1 if sys.stdout.isatty() else 2)
    counts = {"failed": 0, "busy": 0}

    def report(o) -> None:
        """One line for how a run ended; stops the command where every later run would fail too."""
        where = f" on {o.worker}" if o.worker else ""
        if o.kind == "no-data":
            _die(o.message)
        if o.kind in ("busy", "failed"):
            counts[o.kind] += 1
            word = "BUSY" if o.kind == "busy" else "FAILED"
            tail = "; nothing trained for it" if o.kind == "busy" else ""
            print(f"== {o.label}: {word}: {o.message}{tail}", file=sys.stderr, flush=True)
        elif o.kind == "skipped":
            print(f"== {o.label}: already done, skipped (use --force to retrain)", flush=True)
        else:
            s = o.summary
            if s.get("continued_from"):
                c = s["continued_from"]
                print(f"== {o.label}: went on from {c['run']} after its {c['epochs']} epochs", flush=True)
            print(f"== {o.label}: done{where}, test accuracy {s['test']['accuracy']:.4f} "
                  f"in {s['epochs_run']} epochs, {s['train_seconds']:.0f}s", flush=True)

    if args.executor == "dask":
        try:
            for outcome in run_dask(configs, args.runs_dir, args.data_dir, args.force, parents,
                                    address=args.address, workers=args.workers):
                report(outcome)
        except KeyboardInterrupt:
            print("\n== interrupted: the cluster's runs stop where they are; rerun the same command "
                  "to resume them", flush=True)
            sys.exit(130)
    else:
        cancel_file = os.environ.get("CNNLAB_CANCEL_FILE")
        for cfg in configs:
            label = f"{cfg['experiment']}/{run_id(cfg)}"
            if cancel_file and os.path.exists(cancel_file):  # the app's Cancel, between runs
                print(f"== {label}: cancelled before it started", flush=True)
                sys.exit(130)
            print(f"== {label}: {cfg.get('title', '')}", flush=True)
            try:
                report(train_one(cfg, args.runs_dir, args.data_dir, force=args.force, verbose=verbose,
                                 keep_state=cfg["experiment"] in parents))
            except KeyboardInterrupt:
                print(f"\n== {label}: interrupted; rerun the same command to resume", flush=True)
                sys.exit(130)
    if counts["failed"]:
        sys.exit(1)
    if counts["busy"]:
        sys.exit(3)


def cmd_plan(args):
    """What the runs of these experiments take on N machines like the ones
    that trained them, from their recorded training and evaluation times."""
    from core.executor import makespan
    from core.results import experiment_rows
    from core.records import Run
    from pathlib import Path
    rows = [r for r in experiment_rows(args.runs_dir)
            if any(fnmatch.fnmatch(r["experiment"], p) for p in args.names)
            and (not args.group or r["group"] == args.group) and r["run_paths"]]
    seconds = []
    for r in rows:
        for p in r["run_paths"]:
            run = Run(Path(p))
            s = run.summary or {}
            train = s.get("train_seconds") or sum(h.get("seconds") or 0 for h in run.history)
            seconds.append(train + (s.get("eval_seconds") or 0))
    if not seconds or not sum(seconds):
        _die(f"no finished runs of {' '.join(args.names)} with recorded times to plan from")
    try:
        machines = [int(m) for m in args.machines.split(",")]
    except ValueError:
        _die(f"--machines {args.machines!r}: give numbers, e.g. 1,2,4,8")
    if any(m < 1 for m in machines):
        _die("--machines: at least one machine")
    def span(t):
        return f"{t / 3600:.2f} h" if t >= 3600 else f"{t / 60:.1f} min"

    print(f"{len(seconds)} finished runs of {len(rows)} experiments: {span(sum(seconds))} of training "
          f"one after another, the longest run {span(max(seconds))}; {args.overhead:g} s added per run")
    print(f"{'machines':>8} {'wall time':>10} {'speed-up':>8}")
    one = makespan(seconds, 1, args.overhead)
    for m in machines:
        t = makespan(seconds, m, args.overhead)
        print(f"{m:>8} {span(t):>10} {one / t:>8.2f}")


def cmd_show(args):
    run = find_run(args.run, args.runs_dir)
    if run is None:
        _die(f"no run {args.run!r} under {runs_dir(args.runs_dir)} "
             "(give experiment/run-id; `python -m experiments runs` lists them)")
    meta = run.meta
    print(f"run      {run.ref}")
    status, error = run.check()
    print(f"status   {status}")
    if error:
        print(f"problem  {error}")
    print(f"commit   {meta.get('git', {}).get('commit')}"
          f"{' (dirty)' if meta.get('git', {}).get('dirty') else ''}")
    print(f"device   {meta.get('device', {}).get('device')}")
    print(f"started  {meta.get('started')}   ended {meta.get('ended')}")
    print("config")
    print(json.dumps(run.config, indent=2, sort_keys=True))
    summary = run.summary
    print("summary")
    print(json.dumps(summary, indent=2, sort_keys=True) if summary else
          f"  (none: {len(run.history)} epochs recorded so far)")
    if args.history:
        for row in run.history:
            print("  " + "  ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                                   for k, v in row.items()))


def cmd_runs(args):
    runs = list_runs(args.runs_dir, args.experiment)
    print(f"{'run':44} {'status':11} {'epochs':>6} {'test acc':>8}")
    for r in runs:
        status, error = r.check()
        if error:  # its figures cannot be trusted: none shown, the reason instead
            print(f"{r.ref:44} {status:11} {'':>6} {'':>8}  {error}")
            continue
        s = r.summary or {}
        acc = s.get("test", {}).get("accuracy")
        held = f"  held by {holder(r.meta)}" if status == "running" else ""
        print(f"{r.ref:44} {status:11} {len(r.history):>6} "
              f"{'' if acc is None else f'{acc:.4f}':>8}{held}")


def cmd_import(args):
    """Turn one's own training logs into run records of a study of one's own
    (core/importers.py): one log, or many with --map FILE."""
    from pathlib import Path

    from core import importers
    from core.own import OwnRunError
    from core.records import user_runs_dir
    root = Path(args.runs_dir).expanduser() if args.runs_dir else user_runs_dir()
    test = {}
    for item in args.test or ():
        name, _, value = item.partition("=")
        try:
            test[name.strip()] = float(value)
        except ValueError:
            _die(f"--test {item!r}: give NAME=NUMBER, e.g. accuracy=0.93")
    if args.test_accuracy is not None:
        test["accuracy"] = args.test_accuracy
    words = {k: v for k, v in {"baseline": args.baseline, "metric": args.metric, "study_title": args.study_title,
                               "model": args.model, "compare_with": args.compare_with}.items() if v}
    try:
        if args.map:
            if args.path or args.experiment:
                _die("--map FILE lists the logs: give no PATH or --experiment beside it")
            entries = importers.read_map(Path(args.map))
        else:
            if not (args.path and args.experiment):
                _die("give the log's PATH and --experiment NAME (or --map FILE for many)")
            entries = [{"path": Path(args.path), "experiment": args.experiment, "seed": args.seed,
                        "format": args.format, "title": args.title}]
        if any(not (e.get("study") or args.study) for e in entries):
            _die("--study NAME: the study these runs belong to (or a study column in the map)")
        entries = [{**e, "study": e.get("study") or args.study, "format": e.get("format") or args.format}
                   for e in entries]
        done = importers.import_runs(entries, root=root, replace=args.replace, mlflow_run=args.mlflow_run,
                                     test=test, **words)
    except OwnRunError as e:
        _die(f"{e}; nothing was imported")
    for e, (run, log, summary) in zip(entries, done):
        acc = summary["test"].get("accuracy")
        print(f"imported {e['study']}: {run.ref} from {log.format} {e['path']} ({len(log.rows)} epochs"
              f"{'' if acc is None else f', test accuracy {acc:.4f}'})")
    print(f"in {root}; `python -m experiments {'--runs-dir ' + str(root) + ' ' if args.runs_dir else ''}"
          f"report --study {entries[0]['study']}` shows the study, the app its page")


def cmd_report(args):
    if args.study:
        # One study's pages, alone, under its own title: what a student hands in.
        from core.study import local, studies
        found = next((s for s in studies() if s.name == args.study), None)
        if found is None:
            _die(f"no study {args.study!r}; known: {', '.join(s.name for s in studies())}")
        if args.pages or args.group:
            _die("--study chooses the pages and the group: give no --pages or --group with it")
        args.pages = ",".join(p.key for p in found.pages if p.blocks)
        args.group = found.name
        args.title = local(args.lang or "en", found.declared["title"]) if found.declared else None
    if args.export:
        # The report as one file to hand in, its format from the extension. Bad
        # usage exits 2; a failed build exits 1 with its reason on the last line
        # of stderr (the app's export panel shows that line).
        import time
        import traceback
        from pathlib import Path

        from core import export
        path = Path(args.export)
        fmt = path.suffix.lower().lstrip(".")
        if fmt not in export.FORMATS:
            _die(f"cannot export to {path.name!r}: the file name must end in .html, .pdf or .docx")
        try:
            pages = export.check_pages(args.pages.split(",") if args.pages else None)
        except ValueError as e:
            _die(str(e))
        if not path.parent.is_dir():
            _die(f"folder {str(path.parent)!r} does not exist")
        start = time.time()
        try:
            data = export.export(fmt, args.lang or "en", args.runs_dir, pages, title=getattr(args, "title", None))
        except Exception as e:  # noqa: BLE001 - reported, with the traceback above the reason
            traceback.print_exc()
            _die(f"export failed: {type(e).__name__}: {e}", 1)
        path.write_bytes(data)
        print(f"{path} ({len(data) / 1e6:.1f} MB, {fmt}, {len(pages)} report page(s), "
              f"{time.time() - start:.0f} s)")
        return
    if args.lang or (args.pages and not args.study):
        _die("--lang and --pages go with --export FILE")
    from core.results import experiment_rows, left_out, markdown_table
    from core.study import resolve, studies
    every = experiment_rows(args.runs_dir)
    # A study may list others beside a group's own (a combination is judged
    # against its study's baseline: Study.report_rows).
    also = {n for s in studies() if s.report_rows for n in resolve(s.report_rows)(args.group)} if args.group else set()
    rows = [r for r in every if not args.group or r["group"] == args.group or r["experiment"] in also]
    print(markdown_table(rows))
    for ref, why in left_out(rows):
        print(f"\nleft out: {ref}: {why}")
    for s in studies():  # each study's own lines after the table (Study.report)
        if s.report:
            for text in resolve(s.report)(rows, every, args.group, args.runs_dir):
                print()
                print(text)


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m experiments", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--runs-dir", help="where run records live (default: ./runs or $CNNLAB_RUNS_DIR)")
    p.add_argument("--data-dir", help="dataset folder (default: $CNNLAB_DATA_DIR or ~/.cache/cnnlab/data)")
    sub = p.add_subparsers(dest="cmd", required=True)
    sub.add_parser("list", help="every declared experiment").set_defaults(fn=cmd_list)
    r = sub.add_parser("run", help="train experiments, one run per seed; done runs are skipped")
    r.add_argument("names", nargs="*", help="experiment names or globs ('prefix-*')")
    r.add_argument("--config", help="a config JSON file instead of a name")
    r.add_argument("--seeds", type=int, default=1, help="run seeds 0..N-1 (default 1)")
    r.add_argument("--seed", type=int, action="append", help="a specific seed (repeatable)")
    r.add_argument("--epochs", type=int, help="override the epoch budget")
    r.add_argument("--set", action="append", metavar="KEY=VALUE",
                   help="override any config value, e.g. train.batch_size=64")
    r.add_argument("--quick", action="store_true", help="tiny data and 2 epochs (CI)")
    r.add_argument("--force", action="store_true", help="retrain even if a run is done")
    r.add_argument("--seed-first", action="store_true",
                   help="run every experiment's seed 0, then every seed 1, ... (long studies)")
    r.add_argument("--verbose", type=int, choices=(0, 1, 2),
                   help="Keras verbosity (default: progress bar on a terminal)")
    r.add_argument("--executor", choices=("local", "dask"), default="local",
                   help="local: one run after another here (default); dask: each run a task of a "
                        "Dask cluster (README: 'Spread a study over machines')")
    r.add_argument("--address", help="with --executor dask: the scheduler to join (tcp://host:8786); "
                                     "default: start a local cluster here")
    r.add_argument("--workers", type=int, default=1,
                   help="with --executor dask and no --address: worker processes of the local cluster "
                        "(default 1: TensorFlow already uses every core)")
    r.set_defaults(fn=cmd_run)
    pl = sub.add_parser("plan", help="what these experiments' runs take on N machines, from their recorded times")
    pl.add_argument("names", nargs="+", help="experiment names or globs ('prefix-*')")
    pl.add_argument("--group", help="only experiments of this group (`list` shows each experiment's)")
    pl.add_argument("--machines", default="1,2,4,8,16", help="machine counts (default 1,2,4,8,16)")
    pl.add_argument("--overhead", type=float, default=0.0,
                    help="seconds each run costs on top of its training (cluster hand-out, imports)")
    pl.set_defaults(fn=cmd_plan)
    s = sub.add_parser("show", help="a run's config and summary")
    s.add_argument("run", help="experiment/run-id, or a unique prefix")
    s.add_argument("--history", action="store_true", help="also print every epoch")
    s.set_defaults(fn=cmd_show)
    ls = sub.add_parser("runs", help="every run on disk with its status")
    ls.add_argument("experiment", nargs="?")
    ls.set_defaults(fn=cmd_runs)
    rp = sub.add_parser("report", help="markdown table of every experiment's seeds (README); "
                                       "--export FILE writes the whole report as HTML, PDF or Word")
    rp.add_argument("--group", help="only this group (`list` shows each experiment's)")
    rp.add_argument("--export", metavar="FILE",
                    help="write the report to FILE instead: .html (offline, interactive), .pdf or .docx")
    rp.add_argument("--lang", choices=("en", "zh"), help="with --export: en (default) or zh (繁體中文)")
    rp.add_argument("--pages", metavar="KEY,KEY",
                    help="with --export: only these pages, e.g. overview,<page key> (default: all)")
    rp.add_argument("--study", help="only this study's pages, under its title (with --export: its report "
                                    "to hand in)")
    rp.set_defaults(fn=cmd_report)
    im = sub.add_parser("import", help="turn your own training logs into runs of a study of your own "
                                       "(CSVLogger, History JSON, TensorBoard, MLflow)")
    im.add_argument("path", nargs="?", help="the log: a CSVLogger .csv, a History .json, a TensorBoard log "
                                            "folder, an MLflow mlruns/ folder or one run's folder in it")
    im.add_argument("--study", help="the study the runs belong to (its page's name and address)")
    im.add_argument("--experiment", help="the experiment this log is a run of")
    im.add_argument("--seed", type=int, default=0, help="its seed (default 0)")
    im.add_argument("--map", metavar="FILE", help="a CSV of many logs: columns path, experiment, seed "
                                                  "[, study, format, test_accuracy, title]")
    im.add_argument("--format", choices=IMPORT_FORMATS,
                    help="the log's format (default: found from the file)")
    im.add_argument("--mlflow-run", help="with an mlruns/ folder of several runs: the run id")
    im.add_argument("--test-accuracy", type=float, help="the run's test accuracy, if the log does not hold it")
    im.add_argument("--test", action="append", metavar="NAME=VALUE", help="another test figure (repeatable)")
    im.add_argument("--baseline", help="the experiment the study's others are judged against")
    im.add_argument("--metric", choices=OWN_METRICS,
                    help="the figure the study compares (default test_accuracy)")
    im.add_argument("--title", help="the experiment's title in the report")
    im.add_argument("--study-title", help="the study's title in the report")
    im.add_argument("--model", help="the model's name (default: from the log, else 'own')")
    im.add_argument("--compare-with", metavar="EXPERIMENT",
                    help="a declared experiment of this project's whose page may show this run beside its own")
    im.add_argument("--replace", action="store_true", help="write a run again that is already imported")
    im.set_defaults(fn=cmd_import)
    args = p.parse_args(argv)
    if args.runs_dir:  # the studies of one's own found there are listed too (core/study.py)
        from core.study import add_runs_root
        add_runs_root(args.runs_dir)
    # SIGTERM (kill, the app's Cancel) while still importing, before a run
    # installs its own handler: a clean exit 130, not a silent death.
    if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _terminated)
    try:
        args.fn(args)
    except KeyboardInterrupt:
        print("\ninterrupted; rerun the same command to resume", file=sys.stderr, flush=True)
        sys.exit(130)


def _terminated(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


if __name__ == "__main__":
    main()
