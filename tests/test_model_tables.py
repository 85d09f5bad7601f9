"""Each study's model_tables.json is what its models build today, and pages
read it without importing Keras."""
import json
import subprocess
import sys

from conftest import REPO

from core import model_tables


def test_stored_tables_match_the_models():
    from core.study import studies
    for study in (s for s in studies() if s.model_tables):
        stored = json.loads(study.model_tables.read_text(encoding="utf-8"))
        fresh = model_tables.generate(study)
        assert sorted(stored) == sorted(fresh), f"{study.name}: run `python -m core.model_tables`"
        for k in fresh:
            assert stored[k] == fresh[k], f"{k}: stale table, run `python -m core.model_tables`"


def test_report_pages_import_neither_keras_nor_tensorflow():
    code = ("import sys\nfrom core import report\n"
            "for key, make in report.PAGES:\n    make('en')\n"
            "print(sorted(m for m in ('keras', 'tensorflow', 'jax') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_no_app_page_imports_keras_or_tensorflow():
    """Every page as the app runs it (AppTest, one process, the committed runs):
    none pays TensorFlow's seconds. The padding calculator's Keras check and
    retraining import it only when asked for."""
    code = ("import sys\nsys.path.insert(0, 'tests')\nfrom streamlit.testing.v1 import AppTest\n"
            "from conftest import goto, page_urls\n"
            "for f in page_urls():\n"
            "    at = AppTest.from_file('streamlit_app.py', default_timeout=120); at.run()\n"
            "    goto(at, f).run()\n"
            "    assert not at.exception, (f, at.exception)\n"
            "    loaded = sorted(m for m in ('keras', 'tensorflow', 'jax') if m in sys.modules)\n"
            "    assert not loaded, (f, loaded)\n"
            "print('ok')")
    env = {k: v for k, v in __import__("os").environ.items() if k != "CNNLAB_RUNS_DIR"}
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=600,
                         env=env)
    assert out.returncode == 0 and out.stdout.strip().endswith("ok"), out.stderr[-3000:]
