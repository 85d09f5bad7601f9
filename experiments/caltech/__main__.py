"""`python -m experiments.caltech download | classes | ensemble`.

download  fetches the official Caltech-101 archive (caltech-101.zip, which holds
          101_ObjectCategories.tar.gz) into <data dir>/caltech101/ and extracts it.
classes   prints the classes the selection rule picks and the split sizes, for
          the default dataset or a folder of your own (--folder).
ensemble  averages the finished seeds of an experiment (plain and with
          horizontal-flip averaging) on the test split and records the result
          in runs/<experiment>/ensemble.json (experiments/caltech/ensemble.py).
"""
from __future__ import annotations

import argparse
import shutil
import sys
import tarfile
import tempfile
import urllib.request
import zipfile
from pathlib import Path

from experiments.caltech import data as c50
from core.datadir import data_dir, downloads_allowed


def download(target_root: Path) -> Path:
    dest = target_root / c50.CANDIDATE_ROOTS[0]
    if (dest / c50.ARCHIVE_FOLDER).is_dir():
        print(f"already there: {dest / c50.ARCHIVE_FOLDER}")
        return dest
    if not downloads_allowed():
        raise SystemExit("downloads are disabled (CNNLAB_OFFLINE is set)")
    dest.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=dest) as tmp:
        zip_path = Path(tmp) / "caltech-101.zip"
        print(f"downloading {c50.DOWNLOAD_URL} (about 130 MB)…", flush=True)
        with urllib.request.urlopen(c50.DOWNLOAD_URL, timeout=60) as r, open(zip_path, "wb") as f:
            shutil.copyfileobj(r, f)
        with zipfile.ZipFile(zip_path) as z:
            inner = next(n for n in z.namelist() if n.endswith("101_ObjectCategories.tar.gz"))
            z.extract(inner, tmp)
        with tarfile.open(Path(tmp) / inner) as t:
            t.extractall(tmp, filter="data")
        found = next(Path(tmp).rglob(c50.ARCHIVE_FOLDER))
        # Move into place last, so an interrupted download never looks complete.
        found.rename(dest / c50.ARCHIVE_FOLDER)
    print(f"extracted to {dest / c50.ARCHIVE_FOLDER}")
    return dest


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m experiments.caltech", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-dir", help="dataset folder (default: $CNNLAB_DATA_DIR or ~/.cache/cnnlab/data)")
    sub = p.add_subparsers(dest="cmd", required=True)
    sub.add_parser("download", help="fetch and extract the official archive")
    c = sub.add_parser("classes", help="the classes the rule selects and the split sizes")
    c.add_argument("--folder", help="a folder with one sub-folder per class (default: Caltech-101)")
    c.add_argument("--n-classes", type=int, default=50)
    e = sub.add_parser("ensemble", help="seed ensemble and flip averaging of an experiment's runs")
    e.add_argument("experiment", help="a declared 50-class experiment, e.g. c50-best-long")
    e.add_argument("--runs-dir", help="runs folder (default: $CNNLAB_RUNS_DIR or ./runs)")
    e.add_argument("--force", action="store_true",
                   help="replace the record even if some of its members can no longer be evaluated here")
    args = p.parse_args(argv)
    if args.cmd == "download":
        download(data_dir(args.data_dir))
        return 0
    if args.cmd == "ensemble":
        return _ensemble(args)
    try:
        index = c50.dataset_index({"folder": args.folder, "n_classes": args.n_classes}, args.data_dir)
    except (c50.ImageDataNotFound, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    counts = {name: 0 for name in index["classes"]}
    for part in ("train", "val", "test"):
        for _, y in index["splits"][part]:
            counts[index["classes"][y]] += 1
    print(f"{index['folder']}: {len(index['classes'])} classes, "
          + ", ".join(f"{k} {len(v):,}" for k, v in index["splits"].items()))
    for name, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0].lower())):
        print(f"{n:6d}  {name}")
    return 0


def _ensemble(args) -> int:
    from experiments.caltech import ensemble
    from experiments.caltech.configs import EXPERIMENTS
    if args.experiment not in EXPERIMENTS:
        print(f"error: unknown 50-class experiment {args.experiment!r}", file=sys.stderr)
        return 2
    try:
        rec = ensemble.write(args.experiment, args.runs_dir, args.data_dir, force=args.force)
    except (c50.ImageDataNotFound, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    for m in rec["members"]:
        print(f"{m['run']}: {100 * m['test']['accuracy']:.2f} %, with flip {100 * m['test_flip']['accuracy']:.2f} %")
    print(f"ensemble of {len(rec['members'])}: {100 * rec['test']['accuracy']:.2f} %, "
          f"with flip {100 * rec['test_flip']['accuracy']:.2f} % (n = {rec['n_test']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
