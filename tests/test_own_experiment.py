"""The README's "Add your own experiment" walk-through, run as written: its
code block is examples/folder_task.py, its commands train the study on a
generated folder of images, and the app gives the study its own page."""
import os
import re
import shlex
import subprocess
import sys

import pytest

from conftest import REPO, write_image_folder


def _section() -> str:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    return readme.split("### Add your own experiment", 1)[1].split("\n### ", 1)[0]


def test_the_readme_shows_the_example_file_as_it_is():
    python = re.search(r"```python\n(.*?)```", _section(), re.S).group(1)
    assert python == (REPO / "examples" / "folder_task.py").read_text(encoding="utf-8")


@pytest.fixture
def shapes_env(tmp_path, monkeypatch):
    data = tmp_path / "data"
    write_image_folder(data / "shapes", {"circle": 24, "square": 24, "triangle": 24}, size=(32, 32))
    env = {**os.environ, "CNNLAB_DATA_DIR": str(data), "CNNLAB_RUNS_DIR": str(tmp_path / "runs"),
           "CNNLAB_USER_RUNS_DIR": str(tmp_path / "mine"), "CNNLAB_CACHE_DIR": str(tmp_path / "cache")}
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    return env


def test_the_walk_through_trains_the_study_and_the_app_gives_it_a_page(shapes_env, tmp_path, request):
    bash = re.search(r"```bash\n(.*?)```", _section(), re.S).group(1)
    lines = [line.split("#")[0].strip() for line in bash.splitlines()]
    export = next(line for line in lines if line.startswith("export "))
    name, _, value = export.removeprefix("export ").partition("=")
    env = {**shapes_env, name: value}
    outputs = {}
    for line in lines:
        if not line.startswith("python -m experiments"):
            continue  # the export above, and streamlit (checked below through AppTest)
        # `python` as the README says it, the interpreter running the tests
        args = [sys.executable, *shlex.split(line)[1:]]
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

    # the app: a page of its own, under "Your studies", from the runs alone
    assert value == "examples.folder_task"
    request.getfixturevalue("own_study")
    from test_app import _app
    page = _app("app_pages/group.py")  # the page st.navigation registered for the declared group
    assert page.title[0].value == "Shapes: does a wider network help?"
    shown = " ".join(m.value for m in page.markdown)
    assert "against the baseline `shapes-narrow`" in shown
    assert len(page.get("vega_lite_chart")) >= 2  # the accuracy chart and the curves



def test_the_study_page_in_chinese_and_before_any_run(own_study, shapes_env):
    from test_app import _app
    from test_zh_interface import english_words
    page = _app("app_pages/group.py", language="繁體中文")
    assert page.title[0].value == "形狀：較寬的網路有幫助嗎？"
    shown = " ".join(m.value for m in page.markdown)
    assert "尚無完成的 run" in shown and "shapes-narrow shapes-wide" in shown
    words = set().union(*(english_words(m.value) for m in page.markdown))
    assert words <= {"run", "python", "experiments", "seeds", "shapes", "narrow", "wide", "m"}, words


def test_without_plugins_no_study_page_is_listed():
    import experiments
    assert experiments.GROUPS == {} and not any(n.startswith("shapes-") for n in experiments.EXPERIMENTS)
