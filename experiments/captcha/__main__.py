"""Command line for reading captchas (other tools parse its output: keep it exact).

    python -m experiments.captcha predict [--model PATH] IMAGE...
        one line per readable image on stdout: path TAB four upper-case
        characters; one line per unreadable one on stderr: path, colon, why.
        IMAGE "-" reads paths from standard input, one a line, and answers
        each line at once (stdout flushed), so a script starts the reader once
    python -m experiments.captcha evaluate --images DIR --labels FILE [--model PATH]
        line N of FILE labels DIR/N.jpg; the last line is JSON
        {"n", "exact_match", "char_accuracy", "ms_per_image",
         "unreadable_images", "unlabelled_images"}: unreadable images count
        as wrong, images in DIR beyond the labels are not scored (both are
        also said on stderr)
    python -m experiments.captcha audit [--run DIR] [--split test|val|train] [--sheet OUT.png]
        a run's confident failures (suspect labels) and its accuracy on the
        labels as given and as audited (experiments/captcha/label_audit.csv)
    python -m experiments.captcha relabel --runs RUN... --name NAME
        cleaner training/validation labels from an ensemble of runs, saved as
        experiments/captcha/relabel-NAME.csv for a data config to name
    python -m experiments.captcha export-onnx [--model PATH]
        the model's ONNX export beside it (model.onnx) for the light reader,
        checked against Keras on its run's test split (onnx.json); the last
        line is that check as JSON
    python -m experiments.captcha bench [--model PATH] [--cold N] [--against CMD] IMAGE...
        the light reader's cold start (fresh processes: wall time, peak
        memory), ms per upload warm, images/s batched; JSON
    python -m experiments.captcha ensemble EXPERIMENT
        the ensemble of the experiment's finished runs scored on its test
        split: runs/EXPERIMENT/ensemble.json and ensemble-predictions.csv

predict, evaluate and bench take --model more than once: an ensemble, the
models' probabilities averaged (experiments/captcha/ensemble.py).

predict and evaluate read through onnxruntime (experiments/captcha/light.py), with
neither TensorFlow nor Keras imported, whenever the model is an .onnx file
or a .keras file with its ONNX export beside it; another .keras file is read
through Keras (seconds to start; a note on stderr says how to export it).

A batch never stops at a bad image: a missing path, a folder, a damaged,
truncated or foreign file is named on stderr with the reason and the others
are still read.

Exit codes (every command):
    0  done; predict and evaluate read every image
    1  predict, evaluate: some image could not be read (each is named on
       stderr; the others were read and reported); export-onnx: the export
       does not read like the Keras model (recorded in onnx.json, so the
       readers keep to Keras for it)
    2  bad arguments, model, labels or data folder: nothing was read, the
       reason is on stderr as "error: ..." (bench: an unreadable image too)
    3  an unexpected failure (a bug): a traceback on stderr
  141  the output was closed before the answers were all written (a pipe
       such as `predict *.jpg | head -1`): the rest were not read
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep TensorFlow's banner off stdout/stderr

# Commands that read through the light reader, which never multiplies
# matrices in numpy: numpy's OpenBLAS would start a worker thread per core
# on import (`import numpy` took 0.13 s of CPU with them, 0.10 s without, on
# our 2 cores). A cold `predict` does not import numpy at all.
LIGHT_COMMANDS = {"predict", "evaluate"}


class Refusal(SystemExit):
    """Exit code 2 with its reason (already printed on stderr as "error: ...")."""

    def __init__(self, message: str):
        super().__init__(2)
        self.message = message

    def __str__(self) -> str:
        return self.message


def fail(message: str):
    """Bad arguments, model or labels: say why on stderr and exit 2."""
    print(f"error: {message}", file=sys.stderr)
    raise Refusal(f"error: {message}")


IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".gif", ".bmp", ".tif", ".tiff", ".webp"}


def _note(text: str) -> None:
    print(f"note: {text}", file=sys.stderr, flush=True)


def _recognizer(path, light: bool = True):
    """The model's reader: the light ONNX one when the model has an export
    (light=False: always Keras, for the commands that need the model itself)."""
    from experiments.captcha.recognizer import ModelNotFound, Recognizer, open_reader
    try:
        if isinstance(path, list):  # --model given more than once: their averaged probabilities
            from experiments.captcha.ensemble import EnsembleReader
            return EnsembleReader(path)
        return open_reader(path, note=_note) if light else Recognizer(path)
    except ModelNotFound as e:
        fail(str(e))


def _stdin_paths():
    """Paths from standard input, one a line, each as soon as its line ends
    (bytes decoded as the command line's own arguments are); blank lines
    are skipped."""
    stream = sys.stdin.buffer
    while True:
        line = stream.readline()
        if not line:
            return
        line = line[:-1] if line.endswith(b"\n") else line
        line = line[:-1] if line.endswith(b"\r") else line
        if line.strip():
            yield os.fsdecode(line)


# Up to this many image arguments are read one by one by the cold reader
# (Pillow and onnxruntime's C library, no numpy: light.ColdReader); more are
# worth numpy's import for the batched, threaded reader.
COLD_MAX_IMAGES = 100


def _probability(text: str) -> float:
    import argparse
    try:
        v = float(text)
    except ValueError:
        v = float("nan")
    if not 0 <= v <= 1:  # NaN fails too
        raise argparse.ArgumentTypeError(f"{text!r}: a probability from 0 to 1")
    return v


def _full_reader(path, csession, data):
    from experiments.captcha.recognizer import full_reader  # numpy's import only when needed
    return full_reader(path, csession, data)


def _predict_reader(args):
    """A function path -> (text, per-character probabilities) or the
    CaptchaImageError, for predict; and the batched reader, if one was opened."""
    if len(args.models) <= 1 and ("-" in args.images or len(args.images) <= COLD_MAX_IMAGES):
        from experiments.captcha.light import ColdReader
        cold = ColdReader.open(args.model, full=_full_reader)
        if cold is not None:
            return cold.read_scored, None
    rec = _recognizer(args.model)
    return (lambda path: _scored(rec.read_many([path])[0])), rec



def _scored(reading):
    return reading if isinstance(reading, Exception) else (reading.text, [float(c) for c in reading.confidence])


def cmd_predict(args) -> int:
    global _EXIT_AT_ONCE
    _EXIT_AT_ONCE = True
    from experiments.captcha import confidence
    read_one, rec = _predict_reader(args)
    failed = 0
    threshold = args.min_confidence
    scores = args.confidence or threshold is not None

    def answer(path, reading, flush):
        nonlocal failed
        if isinstance(reading, Exception):
            failed += 1
            print(f"{path}: {reading}", file=sys.stderr, flush=flush)
            return
        text, probs = reading
        if not scores:
            print(f"{path}\t{text}", flush=flush)
            return
        sure = confidence.of(probs)
        shown = "unsure" if threshold is not None and sure < threshold else text
        print(f"{path}\t{shown}\t{sure:.4f}", flush=flush)

    batch = []
    for item in args.images + [None]:
        if item == "-" or item is None:
            if batch:
                readings = [_scored(r) for r in rec.read_many(batch)] if rec else [read_one(p) for p in batch]
                for path, reading in zip(batch, readings):
                    answer(path, reading, False)
                sys.stdout.flush()
                batch = []
            if item == "-":
                for path in _stdin_paths():  # answered one by one, at once
                    answer(path, read_one(path), True)
        else:
            batch.append(item)
    sys.stdout.flush()
    return 1 if failed else 0


def _unlabelled(folder, labelled: set[str]) -> list[str]:
    """Image files in the folder that no label line names, numbered ones first."""
    names = [p.name for p in folder.iterdir()
             if p.suffix.lower() in IMAGE_SUFFIXES and not p.name.startswith(".") and p.name not in labelled]
    def numbered_first(name):
        stem = name.split(".")[0]
        return (0, int(stem), name) if stem.isdigit() else (1, 0, name)
    return sorted(names, key=numbered_first)


def cmd_evaluate(args) -> int:
    from pathlib import Path

    from experiments.captcha.labels import LabelError, N_CHARS, read_labels
    from experiments.captcha.preprocess import describe_os_error

    folder = Path(args.images)
    if not folder.is_dir():
        fail(f"{folder} is not a folder (--images names the folder holding 1.jpg, 2.jpg, ...)")
    try:
        labels = read_labels(args.labels)
    except LabelError as e:
        fail(str(e))
    except OSError as e:
        fail(f"cannot read the labels file {args.labels}: {describe_os_error(e)}")
    if not labels:
        fail(f"{args.labels} holds no labels")
    images = [folder / f"{n}.jpg" for n in range(1, len(labels) + 1)]
    missing = [str(p) for p in images if not os.path.lexists(p)]
    if missing:
        fail(f"{len(missing)} image(s) named by the labels are missing, first {missing[0]}")
    try:
        unlabelled = _unlabelled(folder, {p.name for p in images})
    except OSError as e:
        fail(f"cannot list {folder}: {describe_os_error(e)}")
    if unlabelled:
        shown = ", ".join(unlabelled[:3]) + (", ..." if len(unlabelled) > 3 else "")
        print(f"note: {len(unlabelled)} image(s) in {folder} have no label and are not scored "
              f"({args.labels} has {len(labels)} lines, for 1.jpg to {len(labels)}.jpg): {shown}",
              file=sys.stderr)
    rec = _recognizer(args.model)
    t = time.perf_counter()
    readings = rec.read_many(images)
    seconds = time.perf_counter() - t
    exact = chars = unreadable = 0
    for path, label, r in zip(images, labels, readings):
        if isinstance(r, Exception):
            unreadable += 1
            print(f"{path}: {r}", file=sys.stderr)
            continue
        right = sum(a == b for a, b in zip(r.text, label))
        chars += right
        exact += right == N_CHARS
    n = len(labels)
    if unreadable:
        print(f"{unreadable} unreadable image(s) counted as wrong", file=sys.stderr)
    print(json.dumps({"n": n, "exact_match": exact / n, "char_accuracy": chars / (N_CHARS * n),
                      "ms_per_image": 1000 * seconds / n, "unreadable_images": unreadable,
                      "unlabelled_images": len(unlabelled)}))
    return 1 if unreadable else 0


def cmd_robustness(args) -> int:
    """Exact match on transformed copies of the held-out test split; the
    table is printed and saved beside the model: robustness.json for the
    reader as it reads uploads, robustness-model-only.json with --no-trim."""
    from pathlib import Path

    from experiments.captcha.data import CaptchaDataNotFound, list_items, split
    from experiments.captcha.robustness import SETS, evaluate_transforms
    from core.records import atomic_write_json

    try:
        items = list_items(args.data_dir)
        if args.source:  # a whole crawl, as leave one source out tests on it
            test = [it for it in items if it.source == args.source]
            if not test:
                fail(f"no captcha set {args.source!r}; found {', '.join(sorted({it.source for it in items}))}")
        else:
            _, _, test = split(items)
    except CaptchaDataNotFound as e:
        fail(str(e))
    from experiments.captcha.audit import load_audit
    rec = _recognizer(args.model, light=False)
    rec.trim_borders = not args.no_trim
    rows = evaluate_transforms(rec, test[:args.limit] if args.limit else test, SETS[args.set], audit=load_audit())
    for r in rows:
        audited = f"   audited {100 * r['exact_match_audited']:6.2f} %" if "exact_match_audited" in r else ""
        print(f"{r['transform']:32s} exact {100 * r['exact_match']:6.2f} %   "
              f"chars {100 * r['char_accuracy']:6.2f} %{audited}   (n={r['n']})")
    default = "robustness-model-only.json" if args.no_trim else "robustness.json"
    if args.set != "split" or args.source:
        default = default.replace(".json", f"-{args.set}{'-' + args.source if args.source else ''}.json")
    out = Path(args.out) if args.out else rec.path.parent / default
    from datetime import datetime, timezone

    from core import envinfo
    atomic_write_json(out, {"model": str(rec.path), "trim_borders": rec.trim_borders, "rows": rows,
                            "measured": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                            "git": envinfo.git_state()})
    print(json.dumps({"saved": str(out)}))
    return 0


# Runs one command in a fresh process and reports its wall time and peak
# memory. The measured process is forked from this small launcher, not from
# the benchmark: Linux counts the memory a process had before exec in its
# peak, so a child of a 400 MB benchmark would show 400 MB whatever it did.
_LAUNCHER = """
import json, os, sys, time
t = time.perf_counter()
pid = os.fork()
if pid == 0:
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 1)
    os.dup2(null, 2)
    try:
        os.execvp(sys.argv[1], sys.argv[1:])
    finally:
        os._exit(127)
_, status, usage = os.wait4(pid, 0)
print(json.dumps({"wall_s": time.perf_counter() - t, "peak_mib": usage.ru_maxrss / 1024,
                  "cpu_s": usage.ru_utime + usage.ru_stime, "code": os.waitstatus_to_exitcode(status)}))
"""


def _cold_runs(cmds: dict, repeat: int) -> dict:
    """Each command run `repeat` times from a fresh process, interleaved (so
    a machine's changing load falls on all alike): wall seconds of each run,
    their median, the median CPU seconds and the largest peak memory (MiB,
    the kernel's maximum resident size)."""
    import statistics
    import subprocess

    from experiments.captcha.light import child_env
    env = child_env()
    # As a user runs it: Python's bytecode cached after the first run (that
    # run is not counted), even where this shell asks Python not to write it.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    runs = {k: [] for k in cmds}
    for i in range(repeat + 1):
        for k, cmd in cmds.items():
            r = subprocess.run([sys.executable, "-c", _LAUNCHER, *cmd], cwd=_repo_root(), env=env,
                               capture_output=True, text=True)
            if i:
                runs[k].append(json.loads(r.stdout))
    return {k: {"wall_s": [round(r["wall_s"], 4) for r in v],
                "wall_s_median": round(statistics.median(r["wall_s"] for r in v), 4),
                "cpu_s_median": round(statistics.median(r["cpu_s"] for r in v), 4),
                "peak_mib": round(max(r["peak_mib"] for r in v), 1),
                "ok": all(r["code"] == 0 for r in v)} for k, v in runs.items()}


def _repo_root():
    from pathlib import Path
    return Path(__file__).resolve().parents[2]


def cmd_bench(args) -> int:
    """Speed of the three uses: a fresh process reading one captcha (cold
    start: wall time and peak memory of `predict`, optionally against
    another reader's command), one upload at a time in a running process
    (file bytes -> characters, median over N) and many files batched (images
    per second, end to end)."""
    import shlex
    import statistics

    rec = _recognizer(args.model)
    rec.fast_single()
    if hasattr(rec, "warm_up"):
        rec.warm_up()
    paths = args.images
    bad = [(p, r) for p, r in zip(paths, rec.read_many(paths)) if isinstance(r, Exception)]
    if bad:
        fail(f"{bad[0][0]}: {bad[0][1]} (bench times readable captchas only)")
    blobs = [open(p, "rb").read() for p in paths]
    for b in blobs[:3]:
        rec.read(b)  # warm-up
    single = []
    for _ in range(max(1, args.repeat)):
        for b in blobs:
            t = time.perf_counter()
            rec.read(b)
            single.append(1000 * (time.perf_counter() - t))
    t = time.perf_counter()
    rec.read_many(paths)
    batched = time.perf_counter() - t
    result = {"n": len(paths), "single_ms_median": statistics.median(single),
              "single_ms_p90": sorted(single)[int(0.9 * (len(single) - 1))],
              "batched_images_per_second": len(paths) / batched,
              "threads": os.cpu_count(), "single_runner": rec.runner}
    if args.cold:
        model = [a for m in args.models for a in ("--model", str(m))]
        cmds = {"ours": [sys.executable, "-m", "experiments.captcha", "predict", *model, paths[0]],
                "imports_only": [sys.executable, "-c", "import numpy, PIL.Image, onnxruntime"]}
        if args.against:
            cmds["against"] = [*shlex.split(args.against), paths[0]]
        cold = _cold_runs(cmds, args.cold)
        ours = cold["ours"]
        result.update(cold_start_s_median=ours["wall_s_median"], cold_start_s=ours["wall_s"],
                      cold_cpu_s_median=ours["cpu_s_median"], cold_peak_mib=ours["peak_mib"], cold_ok=ours["ok"],
                      imports_only_s_median=cold["imports_only"]["wall_s_median"],
                      imports_only_peak_mib=cold["imports_only"]["peak_mib"])
        if args.against:
            a = cold["against"]
            result.update(against=args.against, against_s_median=a["wall_s_median"], against_s=a["wall_s"],
                          against_cpu_s_median=a["cpu_s_median"], against_peak_mib=a["peak_mib"],
                          against_ok=a["ok"], cold_ratio=round(ours["wall_s_median"] / a["wall_s_median"], 3))
    print(json.dumps(result))
    if args.out:
        from datetime import datetime, timezone
        from pathlib import Path

        from core import envinfo
        from core.records import atomic_write_json
        atomic_write_json(Path(args.out), {**result, "model": str(rec.path), "note": args.note or "",
                                           "measured": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                                           "device": envinfo.device(), "git": envinfo.git_state()})
    return 0


def cmd_export_onnx(args) -> int:
    """The model's ONNX export for the light reader, checked against Keras."""
    from pathlib import Path

    from experiments.captcha.onnx_export import export_file
    from experiments.captcha.recognizer import DEFAULT_MODEL, ModelNotFound
    model = Path(args.model) if args.model else DEFAULT_MODEL
    if model.suffix != ".keras":
        fail(f"{model}: export-onnx exports a .keras model (the ONNX file is written beside it)")
    try:
        record = export_file(model, args.out, args.data_dir)
    except ModelNotFound as e:
        fail(str(e))
    print(json.dumps(record))
    if not record["passed"]:
        print(f"{model}: the export does not read like the Keras model ({record.get('why')}); "
              "the readers keep to Keras for it", file=sys.stderr)
        return 1
    return 0


def cmd_audit(args) -> int:
    """Suspect test labels of a run (confident failures), its accuracy on the
    labels as given and on the committed audited labels, and optionally a
    contact sheet to decide new suspects by eye."""
    import csv
    from pathlib import Path

    from experiments.captcha import audit, task
    from experiments.captcha.recognizer import DEFAULT_MODEL
    run = Path(args.run) if args.run else DEFAULT_MODEL.parent
    preds = run / "predictions.csv"
    if args.split != "test":
        from experiments.captcha.data import CaptchaDataNotFound
        from experiments.captcha.recognizer import ModelNotFound
        try:
            preds = task.predict_split(run, args.split, args.data_dir)
        except (CaptchaDataNotFound, FileNotFoundError, ModelNotFound) as e:
            fail(str(e))
        print(f"{args.split} readings: {preds}", file=sys.stderr)
    if not preds.is_file():
        fail(f"{preds} not found (a captcha run writes it when it is evaluated)")
    known = audit.load_audit()
    rows = audit.suspects(preds, args.min_confidence)
    w = csv.writer(sys.stdout)
    w.writerow(["image", "label", "prediction", "confidence_min", "audited"])
    for r in rows:
        w.writerow([r["image"], r["label"], r["prediction"], r["confidence_min"], known.get(r["image"], "")])
    if args.sheet:
        audit.contact_sheet(rows, args.data_dir, Path(args.sheet))
        print(f"contact sheet: {args.sheet}", file=sys.stderr)
    print(json.dumps({**audit.accuracy(preds, known), "split": args.split, "by_source": audit.by_source(preds)}))
    return 0


def cmd_relabel(args) -> int:
    """Propose a relabel list for the training and validation splits from an
    ensemble of finished runs (experiments/captcha/relabel.py) and save it as
    experiments/captcha/relabel-NAME.csv, for a data config to name."""
    import json as _json
    from collections import Counter
    from pathlib import Path

    from experiments.captcha import propose, relabel
    from experiments.captcha.audit import load_audit, reviewed
    from experiments.captcha.data import CaptchaDataNotFound, config_split

    if args.merge:
        from experiments.captcha.cli_labels import merge_lists
        return merge_lists(args, fail)
    if not args.runs:
        fail("give --runs RUN... (an ensemble) or --merge LIST LIST")
    runs = [Path(r) for r in args.runs]
    for r in runs:
        if not (r / "model.keras").is_file() or not (r / "config.json").is_file():
            fail(f"{r} is not a finished captcha run (needs model.keras and config.json)")
    data_cfgs = [_json.loads((r / "config.json").read_text())["data"] for r in runs]
    # The runs' own split, without any list they trained on: the proposal is
    # made against the labels as given.
    splits = {(c.get("test_source"), c.get("test_size"), c.get("val_fraction")) for c in data_cfgs}
    if len(splits) > 1:
        fail("the runs were trained on different splits; an ensemble for one list shares one split")
    data_cfg = {k: v for k, v in data_cfgs[0].items() if k != "relabel"}
    if args.held_out and not data_cfg.get("test_source"):
        fail("--held-out reads the source a leave-one-source-out run never saw; these runs have no test_source")
    try:
        train, val, test = config_split(data_cfg, args.data_dir)
    except CaptchaDataNotFound as e:
        fail(str(e))
    # --held-out: the images these models never saw (their whole test source),
    # so that every proposal comes from models that did not learn that image.
    items = test if args.held_out else train + val
    out = relabel.path_of(args.name)
    if out.exists() and not args.force:
        fail(f"{out} exists; a list is immutable once a config names it (--force to overwrite)")
    if data_cfg.get("test_source"):
        # Leave one source out: the by-eye verdicts were made on images that
        # models trained on every source picked out, so the list is the
        # ensemble's alone, made by models that never saw the test source.
        audit, looked_at = {}, set()
    else:
        audit, looked_at = load_audit(), reviewed()
    rows = propose.propose(runs, items, args.threshold, audit, looked_at)
    relabel.write(rows, out)
    counts = Counter((r["by"], r["action"]) for r in rows)
    print(_json.dumps({"saved": str(out), "images": len(items),
                       **{f"{by}_{action}": n for (by, action), n in sorted(counts.items())}}))
    return 0


MODELS_HELP = ("a .onnx or .keras captcha model (default: the committed one); given more than once, "
               "an ensemble: their probabilities averaged")


def cmd_ensemble(args) -> int:
    """runs/<experiment>/ensemble.json and ensemble-predictions.csv (experiments/captcha/ensemble.py)."""
    from experiments.captcha import ensemble
    from experiments import EXPERIMENTS
    if args.experiment not in EXPERIMENTS:
        fail(f"no experiment {args.experiment!r} (python -m experiments list names them)")
    try:
        rec = ensemble.measure(args.experiment, args.runs_dir, args.data_dir)
    except ValueError as e:
        fail(str(e))
    print(json.dumps({k: rec[k] for k in ("experiment", "members", "n_test", "test")}))
    return 0


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m experiments.captcha",
                                description="Read THSR booking captchas (4 characters).")
    sub = p.add_subparsers(dest="cmd", required=True)
    pp = sub.add_parser("predict", help="print PATH<TAB>CHARS for each image")
    pp.add_argument("--model", action="append", help=MODELS_HELP)
    pp.add_argument("--confidence", action="store_true",
                    help="add a third column: the reading's confidence (product of its characters' probabilities)")
    pp.add_argument("--min-confidence", type=_probability, metavar="P",
                    help="answer `unsure` (with the confidence) below P, e.g. 0.99: ask for a new captcha then")
    pp.add_argument("images", nargs="+", metavar="IMAGE",
                    help="image files; - reads paths from standard input, one a line, each answered at once")
    pe = sub.add_parser("evaluate", help="accuracy and speed on a labelled folder")
    pe.add_argument("--images", required=True, metavar="DIR", help="folder of 1.jpg, 2.jpg, ...")
    pe.add_argument("--labels", required=True, metavar="FILE", help="line N = label of N.jpg")
    pe.add_argument("--model", action="append", help=MODELS_HELP)
    pr = sub.add_parser("robustness", help="accuracy on cropped / padded / scaled test copies")
    pr.add_argument("--model", help="a .keras captcha model (default: the committed one)")
    pr.add_argument("--data-dir", help="data directory holding thsr-captcha/")
    pr.add_argument("--limit", type=int, help="only the first N test images")
    pr.add_argument("--out", help="where to save the JSON (default: beside the model)")
    pr.add_argument("--set", choices=("split", "crawl"), default="split",
                    help="split: crops, pads and scales of our test split (default); crawl: the sizes, "
                         "re-encodings and small crops of other crawls")
    pr.add_argument("--source", metavar="SET", help="test on every captcha of this set (e.g. handlabeled-5000) "
                    "instead of the held-out split")
    pr.add_argument("--no-trim", action="store_true",
                    help="the model alone: do not take plain margins off first (as the recognizer does)")
    pb = sub.add_parser("bench", help="cold start, ms per single upload and images/s batched")
    pb.add_argument("--model", action="append", help=MODELS_HELP)
    pb.add_argument("--cold", type=int, default=5, metavar="N",
                    help="fresh processes reading the first image, for the cold start (0: none)")
    pb.add_argument("--against", metavar="CMD",
                    help="another reader's command (the image path is appended), run interleaved "
                         "with ours for the cold start, e.g. \"/tmp/dd/bin/python /tmp/dd_read.py\"")
    pb.add_argument("--repeat", type=int, default=1, help="passes over the images for the single timing")
    pb.add_argument("--out", help="also save the figures (with machine, commit and a note) as JSON")
    pb.add_argument("--note", help="what else ran on the machine, saved with --out")
    pb.add_argument("images", nargs="+", metavar="IMAGE")
    pa = sub.add_parser("audit", help="suspect test labels of a run, accuracy on audited labels")
    pa.add_argument("--run", help="a captcha run folder (default: the committed default model's run)")
    pa.add_argument("--min-confidence", type=float, default=0.99,
                    help="list failures read with at least this confidence on every character")
    pa.add_argument("--sheet", metavar="PNG", help="also draw the suspects with label and reading")
    pa.add_argument("--split", choices=("test", "val", "train"), default="test",
                    help="test: the run's saved test readings; val/train: read that split of the "
                         "run's own data now (how noisy are the labels it learnt from?)")
    pa.add_argument("--data-dir", help="data directory holding thsr-captcha/ (for --sheet and --split)")
    pl = sub.add_parser("relabel", help="propose cleaner training/validation labels from finished runs")
    pl.add_argument("--runs", nargs="+", metavar="RUN", help="captcha run folders (an ensemble)")
    pl.add_argument("--held-out", action="store_true",
                    help="propose for the source these leave-one-source-out runs never saw, not their training split")
    pl.add_argument("--merge", nargs="+", metavar="LIST",
                    help="instead: one list from these lists (disjoint images), less the held-out test split")
    pl.add_argument("--name", required=True, help="the list's name: experiments/captcha/relabel-NAME.csv")
    pl.add_argument("--threshold", type=float, default=0.9,
                    help="relabel when every character's ensemble probability reaches this, else drop")
    pl.add_argument("--force", action="store_true", help="overwrite an existing list")
    pl.add_argument("--data-dir", help="data directory holding thsr-captcha/")
    pw = sub.add_parser("blind", help="draw runs' unread failures for a blind reading, or record one")
    pw.add_argument("--runs", nargs="+", metavar="RUN", help="captcha run folders whose failures to draw")
    pw.add_argument("--sheet", metavar="PNG", help="where to draw them (the refs go beside it, .json)")
    pw.add_argument("--record", metavar="JSON", help="the .json of a sheet read: append its readings")
    pw.add_argument("--readings", help="comma-separated, in sheet order; ? where unsure")
    pw.add_argument("--note", default="failure", help="what these captchas are, for the audit file")
    pw.add_argument("--audit-file", help="default: experiments/captcha/label_audit_xsrc.csv")
    pw.add_argument("--data-dir", help="data directory holding thsr-captcha/")
    px = sub.add_parser("export-onnx", help="write a .keras model's ONNX export for the light reader")
    px.add_argument("--model", help="a .keras captcha model (default: the committed one)")
    px.add_argument("--out", help="where to write it (default: model.onnx beside the model)")
    px.add_argument("--data-dir", help="data directory holding thsr-captcha/ (for the check)")
    pn = sub.add_parser("ensemble", help="score the ensemble of an experiment's finished runs on its test split")
    pn.add_argument("experiment", help="a captcha experiment with two or more finished runs")
    pn.add_argument("--runs-dir", help="runs folder (default: $CNNLAB_RUNS_DIR or runs/)")
    pn.add_argument("--data-dir", help="data directory holding thsr-captcha/")
    args = p.parse_args(argv)
    if isinstance(getattr(args, "model", None), list):  # --model once: a path; more: the ensemble's paths
        args.models = args.model
        args.model = args.models[0] if len(args.models) == 1 else args.models
    else:
        args.models = [args.model] if getattr(args, "model", None) else []
    if args.cmd in LIGHT_COMMANDS and "numpy" not in sys.modules:
        os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    # PIL warns of oddities in files it still decodes (corrupt EXIF, a
    # truncated TIFF tag); the reader's own words are on stderr already.
    warnings.filterwarnings("ignore", module=r"PIL\.")
    from experiments.captcha.cli_labels import cmd_blind
    return {"blind": lambda a: cmd_blind(a, fail), "predict": cmd_predict, "evaluate": cmd_evaluate, "robustness": cmd_robustness,
            "bench": cmd_bench, "audit": cmd_audit, "relabel": cmd_relabel,
            "export-onnx": cmd_export_onnx, "ensemble": cmd_ensemble}[args.cmd](args)


def run(argv=None) -> int:
    """main() with the documented exit codes for everything: an exception
    that escapes (a bug, not a bad image) exits 3, never 1."""
    try:
        return main(argv)
    except BrokenPipeError:
        return _output_closed()
    except Exception:  # noqa: BLE001
        import traceback
        traceback.print_exc()
        print("error: an unexpected failure in the reader (a bug; the traceback above says where)",
              file=sys.stderr)
        return 3


# predict reads and prints, and writes no file: once its answers are flushed
# nothing is left to finish, and the interpreter's own tear-down (modules,
# onnxruntime's library) would add 10-25 ms to a cold start of ~0.11 s.
_EXIT_AT_ONCE = False


OUTPUT_CLOSED = 141  # as a shell reports a command stopped by SIGPIPE (128 + 13)


def _output_closed() -> int:
    """The reader of our output went away (`| head`): stop quietly, and let
    nothing try to write to the closed pipe again at exit."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
    return OUTPUT_CLOSED


def _exit_at_once(code: int):
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except OSError:
        code = _output_closed()
    os._exit(code)


if __name__ == "__main__":
    code = run()
    if _EXIT_AT_ONCE:
        _exit_at_once(code)
    sys.exit(code)
