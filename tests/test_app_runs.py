"""The All runs page: accuracies in %, "–" where absent, the user's runs beside
the study's and marked as theirs, deleting one only after a confirmation that
names what goes."""
import pytest
from streamlit.dataframe_util import convert_arrow_bytes_to_pandas_df

from core.records import atomic_write_json, list_runs
from test_app import _app, fake_run


@pytest.fixture
def runs(tmp_path, monkeypatch):
    study, mine = tmp_path / "runs", tmp_path / "mine"
    monkeypatch.setenv("CNNLAB_RUNS_DIR", str(study))
    monkeypatch.setenv("CNNLAB_USER_RUNS_DIR", str(mine))
    fake_run(study, "mnist-fair-cnn2", 0, 0.6973)
    unfinished = fake_run(study, "mnist-seed-nn2", 0, 0.9)
    (unfinished / "summary.json").unlink()
    atomic_write_json(unfinished / "meta.json", {"status": "failed"})
    yours = fake_run(mine, "mnist-fair-cnn2", 7, 0.95, epochs=4, origin="app")
    return {"study": study, "mine": mine, "yours": yours}


def shown(at):
    """The table as the reader sees it (the formatted display values)."""
    return convert_arrow_bytes_to_pandas_df(at.dataframe[0].proto.arrow_data.styler.display_values)


def button(at, label):
    return next(b for b in at.button if b.label == label)


def test_accuracies_in_percent_and_a_dash_when_absent(runs):
    at = _app("runs")
    data, seen = at.dataframe[0].value, shown(at)
    rows = dict(zip(data["experiment"] + "/" + data["seed"].astype(str), range(len(data))))
    study = seen.iloc[rows["mnist-fair-cnn2/0"]]
    assert study["test accuracy"] == "69.73 %" and study["best val accuracy"] == "69.73 %"
    failed = seen.iloc[rows["mnist-seed-nn2/0"]]
    assert failed["test accuracy"] == "–" and failed["s / epoch"] == "–" and failed["status"] == "failed"
    # the numbers underneath stay numbers, so the columns sort as numbers
    assert data["test accuracy"].dtype.kind == "f"


def test_the_users_runs_are_listed_beside_the_studys_marked_as_theirs(runs):
    at = _app("runs")
    data = at.dataframe[0].value
    assert len(data) == 3
    origin = dict(zip(data["experiment"] + "/" + data["seed"].astype(str), data["origin"]))
    assert origin == {"mnist-fair-cnn2/0": "study", "mnist-seed-nn2/0": "study", "mnist-fair-cnn2/7": "yours"}
    assert any(str(runs["mine"]) in c.value for c in at.caption)  # where the user's runs are kept


def test_deleting_a_run_asks_first_and_names_what_goes(runs):
    at = _app("runs")
    ref = "mnist-fair-cnn2/" + runs["yours"].name
    at.multiselect[2].select(ref).run()
    assert [b.label for b in at.button] == ["delete"]  # only the user's run offers it
    button(at, "delete").click()
    at.run()
    assert runs["yours"].exists()  # nothing is deleted on the first click
    (ask,) = at.warning
    assert f"Delete your run **{ref}** for good?" in ask.value
    assert str(runs["yours"]) in ask.value and "config.json" in ask.value and "history.csv" in ask.value
    button(at, "Keep it").click()
    at.run()
    assert runs["yours"].exists() and not at.warning
    button(at, "delete").click()
    at.run()
    button(at, f"Yes, delete {ref}").click()
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    assert not runs["yours"].exists()
    assert [s.value for s in at.success] == [f"Deleted {ref}."]
    assert ref not in [r.ref for r in list_runs()] and len(list_runs()) == 2
    assert len(at.dataframe[0].value) == 2 and "yours" not in set(at.dataframe[0].value["origin"])


def test_study_runs_and_app_runs_outside_the_users_folder_offer_no_delete(runs):
    stray = fake_run(runs["study"], "mnist-seed-nn2", 3, 0.9, origin="app")  # an app run in the study folder
    at = _app("runs")
    refs = list(at.dataframe[0].value["run"])
    at.multiselect[2].set_value([r for r in refs if not r.endswith(runs["yours"].name)]).run()
    assert not [b for b in at.button if b.label == "delete"]
    assert stray.exists()


def test_runs_page_in_chinese(runs):
    at = _app("runs", language="繁體中文")
    assert at.title[0].value == "所有 run"
    seen = shown(at)
    assert {"測試準確率", "來源", "狀態"} <= set(seen.columns)
    assert "你的" in set(seen["來源"]) and "失敗" in set(seen["狀態"]) and "69.73 %" in set(seen["測試準確率"])
