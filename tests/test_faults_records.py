"""Damaged run records (issue 25, problem 1): any record file missing, empty,
truncated, binary or of the wrong type makes its run `unreadable`, named with
the file and the reason; every other run, every listing, the report and every
page go on as before, and the tables say what they left out."""
import json
import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import page_urls, REPO
from core.records import DEFAULT_RUNS_DIR, Run, list_runs
from core.results import experiment_rows, left_out
from test_app import _app, fake_run

FILES = ("config.json", "meta.json", "summary.json", "history.csv")


def _tear(path, how: str, rng: random.Random) -> None:
    """Damage one record file the ways a disk, a copy or a hand can."""
    data = path.read_bytes()
    if how == "missing":
        path.unlink()
    elif how == "empty":
        path.write_bytes(b"")
    elif how == "truncated":
        path.write_bytes(data[: max(1, len(data) // 2) - 1])
    elif how == "binary":
        path.write_bytes(bytes(rng.randrange(128, 256) for _ in range(300)))
    elif how == "nul":  # a power cut can leave a block of zeros
        path.write_bytes(b"\0" * len(data))
    else:  # valid JSON of the wrong type
        path.write_bytes(json.dumps({"list": [1, 2], "string": "oops", "null": None}[how]).encode())


DAMAGES = ("missing", "empty", "truncated", "binary", "nul", "list", "string", "null")


@pytest.mark.parametrize("damage", DAMAGES)
@pytest.mark.parametrize("name", FILES)
def test_a_torn_record_file_makes_its_run_unreadable_and_nothing_else(tmp_path, name, damage):
    root = tmp_path / "runs"
    runs = [fake_run(root, "mnist-fair-cnn2", seed, acc) for seed, acc in enumerate((0.990, 0.992, 0.994))]
    _tear(runs[1] / name, damage, random.Random(f"{name}-{damage}"))
    listed = {r.ref: r for r in list_runs(root, users=False)}
    assert len(listed) == 3  # the damaged run is listed, not hidden
    torn = Run(runs[1])
    assert torn.status == "unreadable"
    assert torn.problem and name in torn.problem, torn.problem
    # Readers of the damaged run never raise; they get nothing from it.
    assert isinstance(torn.config, dict) and isinstance(torn.meta, dict)
    assert torn.summary is None or isinstance(torn.summary, dict)
    assert isinstance(torn.history, list)
    assert [Run(p).status for p in (runs[0], runs[2])] == ["done", "done"]
    row = next(r for r in experiment_rows(root) if r["experiment"] == "mnist-fair-cnn2")
    assert row["n_done"] == 2 and row["seeds"] == [0, 2]
    assert left_out([row]) == [(torn.ref, torn.problem)]
    assert left_out([row], "zh")[0][1] != torn.problem  # the reason in the reader's language


def test_a_duplicated_or_missing_epoch_row_is_damage(tmp_path):
    path = fake_run(tmp_path / "runs", "mnist-fair-cnn2", 0, 0.99, epochs=3)
    lines = (path / "history.csv").read_text().splitlines()
    (path / "history.csv").write_text("\n".join(lines[:3] + lines[2:]) + "\n")  # epoch 2 twice
    assert Run(path).status == "unreadable"
    assert "epoch 2 is written twice" in Run(path).problem
    (path / "history.csv").write_text("\n".join(lines[:2] + lines[3:]) + "\n")  # epoch 2 lost
    assert "expected 2" in Run(path).problem


def test_a_done_run_without_its_history_is_not_done_with_0_epochs(tmp_path):
    path = fake_run(tmp_path / "runs", "mnist-fair-cnn2", 0, 0.99, epochs=3)
    (path / "history.csv").unlink()
    run = Run(path)
    assert run.status == "unreadable" and "history.csv is missing" in run.problem


def test_a_folder_with_only_config_is_an_interrupted_start_not_damage(tmp_path):
    path = fake_run(tmp_path / "runs", "mnist-fair-cnn2", 0, 0.99)
    for name in ("meta.json", "history.csv", "summary.json"):
        (path / name).unlink()
    assert Run(path).status == "interrupted" and Run(path).problem is None


# --- the committed runs, damaged: every command and every page ----------------------------

# One run of each study, each torn another way.
TORN = {
    "mnist-fair-cnn1": ("meta.json", "binary"),
    "mnist-seed-nn2": ("history.csv", "missing"),
    "c50-baseline": ("summary.json", "list"),
    "c50-batchnorm": ("config.json", "truncated"),
    "captcha-net-clean": ("meta.json", "string"),
}


@pytest.fixture(scope="module")
def torn_runs(tmp_path_factory):
    """The committed records (without model files), one run of each study torn."""
    if not any(DEFAULT_RUNS_DIR.glob("mnist-fair-cnn1/s*/summary.json")):
        pytest.skip("the committed runs are not in this checkout")
    root = tmp_path_factory.mktemp("torn") / "runs"
    shutil.copytree(DEFAULT_RUNS_DIR, root, ignore=shutil.ignore_patterns("*.keras", "backup", "final_state"))
    rng = random.Random(25)
    torn = {}
    declared = {r["experiment"]: r["run_paths"] for r in experiment_rows(root)}
    for experiment, (name, damage) in TORN.items():
        run = Path(declared[experiment][-1])  # a run the report counts today
        _tear(run / name, damage, rng)
        torn[f"{experiment}/{run.name}"] = name
    return root, torn


def _cli(root, *args, timeout=240):
    env = {**os.environ, "CNNLAB_RUNS_DIR": str(root)}
    return subprocess.run([sys.executable, "-m", "experiments", *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=timeout)


def test_every_command_lists_the_torn_runs_and_goes_on(torn_runs):
    root, torn = torn_runs
    listing = _cli(root, "runs")
    assert listing.returncode == 0, listing.stderr
    for ref, name in torn.items():
        line = next(x for x in listing.stdout.splitlines() if x.startswith(ref))
        assert "unreadable" in line and name in line, line
    assert listing.stdout.count(" done ") >= 150  # every other run still listed as done
    for ref, name in torn.items():
        shown = _cli(root, "show", ref)
        assert shown.returncode == 0, shown.stderr
        assert "status   unreadable" in shown.stdout and f"problem  {name}" in shown.stdout
    report = _cli(root, "report")
    assert report.returncode == 0, report.stderr
    for ref in torn:
        assert f"left out: {ref}:" in report.stdout
    assert "Traceback" not in listing.stderr + report.stderr


def test_training_refuses_to_write_over_a_torn_run(torn_runs, tmp_path):
    root, torn = torn_runs
    ref = next(r for r in torn if r.startswith("mnist-fair-cnn1/"))
    seed = ref.split("/s")[1].split("-")[0]
    mine = tmp_path / "runs"
    shutil.copytree(root / "mnist-fair-cnn1", mine / "mnist-fair-cnn1")
    def records():
        return {p.name: p.read_bytes() for p in (mine / ref).iterdir() if p.name != ".lock"}

    before = records()
    out = _cli(mine, "run", "mnist-fair-cnn1", "--seed", seed)
    assert out.returncode == 1
    assert "cannot be resumed: meta.json is not text" in out.stderr and "--force" in out.stderr
    assert records() == before


PAGES = page_urls()  # every page of the app, by its url path
# Where a torn run is counted, and so must be named as left out.
LEFT_OUT = {"": list(TORN), "mnist": ["mnist-"],
            "captcha-models": ["captcha-"], "c50-best": ["c50-baseline"],
            "c50-batchnorm": ["c50-batchnorm", "c50-baseline"],
            "c50-padding": ["c50-baseline"]}


@pytest.mark.parametrize("page", PAGES)
def test_every_page_opens_on_torn_runs_and_says_what_it_left_out(torn_runs, page, monkeypatch):
    root, torn = torn_runs
    monkeypatch.setenv("CNNLAB_RUNS_DIR", str(root))
    at = _app(page)
    shown = " ".join(m.value for m in at.markdown) + " ".join(w.value for w in at.warning)
    if page == "runs":
        data = at.dataframe[0].value
        bad = data[data["status"] == "unreadable"]
        assert set(bad["run"]) == set(torn)
        assert all(name in why for name, why in zip((torn[r] for r in bad["run"]), bad["problem"]))
        assert at.warning and "5 run(s) cannot be read" in at.warning[0].value
        return
    if page not in LEFT_OUT:
        return  # opened without an exception (_app checks) is what this page owes
    expect = LEFT_OUT[page]
    assert "left out of this page's figures" in shown
    for start in expect:
        assert any(ref.startswith(start) and f"`{ref}`" in shown for ref in torn), (start, shown[:500])


def test_the_chinese_page_gives_the_reason_in_chinese(torn_runs, monkeypatch):
    root, torn = torn_runs
    monkeypatch.setenv("CNNLAB_RUNS_DIR", str(root))
    at = _app("mnist", language="繁體中文")
    shown = " ".join(m.value for m in at.markdown)
    assert "未納入本頁的數字" in shown and "不是文字檔" in shown
