"""Record fields of the wrong kind (issue 34): a run whose config, meta or
summary holds a field of the wrong type, null where an object belongs, an
unknown status, a non-finite number, nesting deeper than the limit or a file
over the size limit is `unreadable: FILE: FIELD: what was wrong`; it is left
out with that line, and no listing, command or page stops.

The corpus is generated from one committed run of each study: every field of
every record file, each made wrong in each way that applies to it (several
hundred damaged runs), beside an undamaged copy of all committed records."""
import copy
import fnmatch
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO
from core.record_schema import MAX_BYTES, MAX_DEPTH
from core.records import DEFAULT_RUNS_DIR, Run, list_runs
from test_app import _app
from test_faults_records import PAGES, _cli  # every page; the CLI on a runs folder

# One committed run of each study: their configs differ (the captcha's
# preprocessing and relabelling, Caltech's folder and augmentation).
SOURCES = ("mnist-fair-nn2/s0-e4d42cd9", "captcha-net-clean/s0-5d52a22d", "c50-baseline/s0-bcffe8c4")
JSON_FILES = ("config.json", "meta.json", "summary.json")

# A model's and a preprocessor's own arguments: the schema leaves them to the
# code that builds the model (which checks them when a run starts), so a
# changed type there is not damage to the record.
FREE = ("config.json:model.kwargs.*", "config.json:data.preprocess_options.*")
# Fields a writer leaves null (core/train.py, core/envinfo.py) or a config
# declares null: null there is a value, not damage.
NULLABLE = (
    "config.json:reference", "config.json:data.pool_size", "config.json:data.shuffle_buffer",
    "config.json:data.test_limit", "config.json:data.train_limit", "config.json:data.val_limit",
    "config.json:data.test_source", "config.json:data.relabel", "config.json:data.synthetic",
    "config.json:data.folder", "config.json:data.n_classes",
    "config.json:train.early_stopping", "config.json:train.reduce_lr", "config.json:train.class_weight",
    "config.json:train.lr_schedule", "config.json:train.mix", "config.json:train.continue_from",
    "config.json:train.devices", "config.json:reference.*",
    "meta.json:worker", "meta.json:ended", "meta.json:git.commit", "meta.json:git.dirty",
    "meta.json:device.cpu_count", "meta.json:versions.*", "meta.json:sessions.#.resumed_from_epoch",
    "summary.json:devices", "summary.json:model_file", "summary.json:restored_best_epoch",
    "summary.json:best_epoch", "summary.json:seconds_per_epoch_median",
)
# Fields whose value may be text as well as a number: a published figure's
# cells ("n/a"), a device count or name.
TEXT_OK = ("config.json:reference.*", "config.json:train.devices", "summary.json:devices")


def _dotted(where) -> str:
    return ".".join(f"[{p}]" if isinstance(p, int) else str(p) for p in where).replace(".[", "[")


def _matches(name: str, where, patterns) -> bool:
    field = f"{name}:{_dotted(where)}".replace("[0]", ".#")  # any item of a list
    return any(fnmatch.fnmatchcase(field, p) for p in patterns)


def _fields(value, where=()):
    """Every field of a record: each key of each object, the first item of each list."""
    if where:
        yield where, value
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _fields(v, (*where, k))
    elif isinstance(value, list) and value:
        yield from _fields(value[0], (*where, 0))


def _replace(record: dict, where, new) -> dict:
    out = copy.deepcopy(record)
    node = out
    for p in where[:-1]:
        node = node[p]
    node[where[-1]] = new
    return out


def _nested(levels: int):
    value: list = []
    for _ in range(levels):
        value = [value]
    return value


def _is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _wrongs(value) -> dict:
    """Each way this field can be wrong: kind -> the value put in its place."""
    out = {"deep": _nested(MAX_DEPTH)}
    if value is None:  # a field left null: true is of no type any such field may hold
        out["true-for-null"] = True
    else:
        out["null"] = None
        out["list-for-object" if isinstance(value, dict) else "object-for-value"] = (
            [1] if isinstance(value, dict) else {"oops": 1})
    if _is_number(value):
        out.update({"text-for-number": "0.99", "nan": float("nan"), "infinity": float("inf")})
    if isinstance(value, int) and not isinstance(value, bool):
        out["bool-for-int"] = True
    return out


def _expect_unreadable(name: str, where, kind: str) -> bool:
    if kind in ("deep", "nan", "infinity"):
        return True  # limits every record file keeps, whatever the field
    if _matches(name, where, FREE) or any(
            _matches(name, where[:i], FREE) for i in range(1, len(where))):
        return False
    if kind == "null":
        return not _matches(name, where, NULLABLE)
    if kind == "text-for-number":
        return not _matches(name, where, TEXT_OK)
    return True


def _damages(source: Path):
    """(label, file name, new file bytes, expected unreadable, words the
    problem must hold) for every damage of one run's records."""
    for name in JSON_FILES:
        record = json.loads((source / name).read_text())
        for where, value in _fields(record):
            for kind, new in _wrongs(value).items():
                damaged = _replace(record, where, new)
                field = _dotted(where) if kind != "deep" else ""
                yield (f"{name}:{_dotted(where)}:{kind}", name, json.dumps(damaged).encode(),
                       _expect_unreadable(name, where, kind), f"{name}: {field}" if field else name)
        padded = {**record, "padding": "x" * MAX_BYTES}
        yield f"{name}:too-large", name, json.dumps(padded).encode(), True, f"{name} is larger"
        yield f"{name}:deep-file", name, b"[" * 100_000 + b"]" * 100_000, True, f"{name} nests deeper"
    meta = json.loads((source / "meta.json").read_text())
    yield ("meta.json:status:unknown", "meta.json", json.dumps({**meta, "status": "weird"}).encode(),
           True, "meta.json: status: \"weird\" is not one of")
    config = json.loads((source / "config.json").read_text())
    yield ("config.json:seed:out-of-range", "config.json", json.dumps({**config, "seed": 2 ** 40}).encode(),
           True, "config.json: seed: 1099511627776 is outside 0 … 4294967295")
    lines = (source / "history.csv").read_text().splitlines()
    head = lines[0].split(",")
    for i, column in enumerate(head):
        if column == "epoch":
            continue
        cells = lines[1].split(",")
        cells[i] = "oops"
        text = "\n".join([lines[0], ",".join(cells), *lines[2:]]) + "\n"
        yield (f"history.csv:{column}:text", "history.csv", text.encode(), True,
               f'history.csv, row 1: {column}: "oops" is not a number')


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """The committed records (no model files) and, beside each source run,
    one damaged copy per damage, named d<k>-<its config hash> so that every
    table counts it (or says it left it out)."""
    if not all((DEFAULT_RUNS_DIR / s / "summary.json").is_file() for s in SOURCES):
        pytest.skip("the committed runs are not in this checkout")
    root = tmp_path_factory.mktemp("damaged") / "runs"
    shutil.copytree(DEFAULT_RUNS_DIR, root, ignore=shutil.ignore_patterns(
        "*.keras", "*.onnx", "*.npz", "backup", "final_state", ".lock"))
    cases = {}
    for source in SOURCES:
        src = root / source
        for k, (label, name, data, unreadable, words) in enumerate(_damages(src)):
            path = src.parent / f"d{k:03d}-{src.name.split('-', 1)[1]}"
            shutil.copytree(src, path)
            (path / name).write_bytes(data)
            cases[f"{path.parent.name}/{path.name}"] = (f"{source} {label}", unreadable, words)
    return root, cases


def test_the_corpus_damages_every_field_of_every_record_file(corpus):
    _, cases = corpus
    assert len(cases) >= 100
    labels = {label.split(" ", 1)[1] for label, _, _ in cases.values()}
    # the issue's own cases, each in the corpus
    for case in ("config.json:seed:bool-for-int", "meta.json:status:unknown",
                 "summary.json:test.accuracy:text-for-number", "summary.json:deep-file",
                 "meta.json:git:null", "meta.json:device:null"):
        assert case in labels, case


def test_each_damaged_run_is_unreadable_naming_file_and_field(corpus):
    root, cases = corpus
    wrong = []
    for ref, (label, unreadable, words) in cases.items():
        run = Run(root / ref)
        status, error = run.check()
        if unreadable:
            if status != "unreadable" or words not in str(error):
                wrong.append(f"{label}: {status}: {error}")
        elif status == "unreadable":
            wrong.append(f"{label}: should stay readable, but {error}")
    assert not wrong, "\n".join(wrong[:40])


def test_every_committed_run_is_readable():
    if not any(DEFAULT_RUNS_DIR.glob("mnist-fair-nn2/s*/summary.json")):
        pytest.skip("the committed runs are not in this checkout")
    bad = [(r.ref, r.problem) for r in list_runs(DEFAULT_RUNS_DIR, users=False) if r.problem]
    assert not bad


def test_runs_and_report_list_every_damaged_run_and_exit_0(corpus):
    root, cases = corpus
    listing = _cli(root, "runs")
    assert listing.returncode == 0 and "Traceback" not in listing.stderr, listing.stderr[-2000:]
    lines = {x.split()[0]: x for x in listing.stdout.splitlines()[1:]}
    for ref, (label, unreadable, words) in cases.items():
        assert ("unreadable" in lines[ref]) == unreadable, (label, lines[ref])
        if unreadable:
            assert words in lines[ref], (label, lines[ref])
    for group in (None, "mnist-fair"):
        report = _cli(root, "report", *(("--group", group) if group else ()))
        assert report.returncode == 0 and "Traceback" not in report.stderr, report.stderr[-2000:]
        named = [ref for ref, (_, unreadable, _) in cases.items() if unreadable
                 and (group is None or ref.startswith(group))]
        missing = [ref for ref in named if f"left out: {ref}:" not in report.stdout]
        assert not missing, missing[:10]


# `show` for every damaged run, in one process (several hundred subprocesses
# would cost minutes): any exception but exit 0 is a failure.
_SHOW_ALL = """
import contextlib, io, json, sys, traceback
from experiments.__main__ import main
bad = []
for ref in json.load(sys.stdin):
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out):
            main(["show", "--history", ref])
    except SystemExit as e:
        if e.code not in (0, None):
            bad.append(f"{ref}: exit {e.code}")
    except BaseException:
        bad.append(f"{ref}: " + traceback.format_exc())
    else:
        if "status   " not in out.getvalue():
            bad.append(f"{ref}: no status line")
print(json.dumps(bad))
"""


def test_show_opens_every_damaged_run(corpus):
    root, cases = corpus
    env = {**os.environ, "CNNLAB_RUNS_DIR": str(root)}
    out = subprocess.run([sys.executable, "-c", _SHOW_ALL], cwd=REPO, env=env, input=json.dumps(list(cases)),
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    bad = json.loads(out.stdout.strip().splitlines()[-1])
    assert not bad, "\n".join(bad[:10])


@pytest.mark.parametrize("page", PAGES)
def test_every_page_opens_on_the_damaged_corpus(corpus, page, monkeypatch):
    root, _ = corpus
    monkeypatch.setenv("CNNLAB_RUNS_DIR", str(root))
    _app(page)  # no exception on the page (_app checks)
