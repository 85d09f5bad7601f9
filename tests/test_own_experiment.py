"""A study of one's own is one folder: the README's "Add a study" walk-through
run as written on examples/folder_study/, and the study found everywhere the
built-in ones are (navigation, Data page, Overview, exports, `experiments
list`) with no file of the project edited, from a copy in a temporary folder."""
import os
import re
import shlex
import shutil
import subprocess
import sys

import pytest

from conftest import REPO, goto


def _section() -> str:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    return readme.split("## Add a study", 1)[1].split("\n## ", 1)[0]


@pytest.fixture
def shapes_env(tmp_path, monkeypatch):
    env = {**os.environ, "CNNLAB_DATA_DIR": str(tmp_path / "data"), "CNNLAB_RUNS_DIR": str(tmp_path / "runs"),
           "CNNLAB_USER_RUNS_DIR": str(tmp_path / "mine"), "CNNLAB_CACHE_DIR": str(tmp_path / "cache")}
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    return env


def test_the_walk_through_trains_the_study_and_the_app_gives_it_a_page(shapes_env, tmp_path, request):
    bash = re.search(r"```bash\n(.*?)```", _section(), re.S).group(1)
    lines = [line.split("#")[0].strip() for line in bash.splitlines()]
    export = next(line for line in lines if line.startswith("export "))
    name, _, value = export.removeprefix("export ").partition("=")
    assert value == "examples.folder_study"
    env = {**shapes_env, name: value}
    outputs = {}
    for line in lines:
        if not line.startswith("python -m "):
            continue  # the export above, and streamlit (checked below through AppTest)
        args = [sys.executable, *shlex.split(line)[1:]]  # `python` as the README says it
        out = subprocess.run(args, cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
        assert out.returncode == 0, (line, out.stderr[-3000:])
        outputs[line] = out.stdout
    listing = next(v for k, v in outputs.items() if k.endswith(" list"))
    assert "shapes-narrow" in listing and "shapes-wide" in listing
    report = next(v for k, v in outputs.items() if "report" in k)
    assert "`shapes-narrow`" in report and "`shapes-wide`" in report and "(3 seeds)" in report

    from core.records import list_runs
    runs = list_runs(tmp_path / "runs", users=False)
    assert len(runs) == 6 and all(r.status == "done" for r in runs)

    request.getfixturevalue("own_study")
    from test_app import _app
    page = _app("shapes")
    assert page.title[0].value == "Shapes: does a wider network help?"
    shown = " ".join(m.value for m in page.markdown)
    assert "against the baseline `shapes-narrow`" in shown
    assert len(page.get("vega_lite_chart")) >= 2  # the accuracy chart and the curves
    home = _app()
    cards = [m.label for m in home.metric]
    assert "Shapes: wide network" in cards, cards


def test_the_study_page_in_chinese_and_before_any_run(own_study, shapes_env):
    from test_app import _app
    from test_zh_interface import english_words
    page = _app("shapes", language="繁體中文")
    assert page.title[0].value == "形狀：較寬的網路有幫助嗎？"
    shown = " ".join(m.value for m in page.markdown)
    assert "尚無完成的 run" in shown and "shapes-narrow shapes-wide" in shown
    words = set().union(*(english_words(m.value) for m in page.markdown))
    assert words <= {"run", "python", "experiments", "seeds", "shapes", "narrow", "wide", "m"}, words


def test_without_plugins_no_study_is_listed():
    from core import study
    assert "shapes" not in {s.name for s in study.studies()}
    assert not any(n.startswith("shapes-") for n in study.experiments())


# A study from a folder of its own (not inside this checkout), found through
# $CNNLAB_PLUGINS alone: every place the report shows a study shows it.
PROBE = r'''
import json, sys
sys.path.insert(0, sys.argv[1])
sys.path.insert(0, "tests")
from streamlit.testing.v1 import AppTest
from conftest import goto
from core import datadir, export, report, study
out = {"studies": [s.name for s in study.studies()]}
row = next(d for d in study.datasets() if d.key == "shapes")
out["data"] = [row.present, row.command]
at = AppTest.from_file("streamlit_app.py", default_timeout=120).run()
out["nav"] = sorted(i.get("url_pathname") for i in at._registered_pages.values())
out["cards"] = [m.label for m in at.metric]
goto(at, "data").run()
out["data_page"] = [d for d in at.dataframe[0].value["dataset"]]
out["data_errors"] = [e.value for e in at.error]
goto(at, "mystudy").run()
out["page_title"] = at.title[0].value
out["exception"] = [e.message for e in at.exception]
html = export.export("html", "en", None, ["overview", "mystudy"]).decode("utf-8")
out["html"] = "Shapes: does a wider network help?" in html
for fmt in ("pdf", "docx"):
    out[fmt] = len(export.export(fmt, "en", None, ["mystudy"]))
print("RESULT " + json.dumps(out))
'''


def test_a_study_in_a_folder_of_its_own_appears_everywhere(tmp_path):
    """The example copied to a temporary folder under another name: no file of
    the project is edited, and its missing data reads "no data" with its command."""
    plugins = tmp_path / "plugins"
    shutil.copytree(REPO / "examples" / "folder_study", plugins / "mystudy",
                    ignore=shutil.ignore_patterns("__pycache__"))
    for f in (plugins / "mystudy").rglob("*.py"):  # its own module name, its own page key
        f.write_text(f.read_text(encoding="utf-8").replace("examples.folder_study", "mystudy")
                     .replace('Page("shapes"', 'Page("mystudy"'), encoding="utf-8")
    before = subprocess.run(["git", "status", "--porcelain"], cwd=REPO, capture_output=True, text=True).stdout
    env = {**os.environ, "CNNLAB_PLUGINS": "mystudy", "CNNLAB_DATA_DIR": str(tmp_path / "no-data"),
           "CNNLAB_RUNS_DIR": str(tmp_path / "runs"), "CNNLAB_USER_RUNS_DIR": str(tmp_path / "mine"),
           "PYTHONPATH": str(plugins)}
    r = subprocess.run([sys.executable, "-c", PROBE, str(plugins)], cwd=REPO, env=env, capture_output=True,
                       text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    out = next(__import__("json").loads(line[7:]) for line in r.stdout.splitlines() if line.startswith("RESULT "))
    assert out["studies"][-1] == "shapes" and not out["exception"], out
    assert out["data"][0] is False and out["data"][1].startswith("python -m mystudy --data-dir ")
    assert "mystudy" in out["nav"]
    assert "Shapes (your study)" in out["data_page"]
    assert any("shapes" in e for e in out["data_errors"]), out["data_errors"]
    assert out["page_title"] == "Shapes: does a wider network help?"
    assert out["html"] and out["pdf"] > 1000 and out["docx"] > 1000
    listing = subprocess.run([sys.executable, "-m", "experiments", "list"], cwd=REPO, env=env,
                             capture_output=True, text=True, timeout=120)
    assert "shapes-narrow" in listing.stdout and "shapes-wide" in listing.stdout
    run = subprocess.run([sys.executable, "-m", "experiments", "run", "shapes-narrow", "--quick"], cwd=REPO,
                         env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 2 and "no class folders" in run.stderr and "python -m mystudy make" in run.stderr
    assert subprocess.run(["git", "status", "--porcelain"], cwd=REPO, capture_output=True,
                          text=True).stdout == before, "the project's files changed"
