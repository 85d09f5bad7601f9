"""core/model_tables.json is what the models build today, and pages read it
without importing Keras."""
import json
import subprocess
import sys

from conftest import REPO

from core import model_tables


def test_stored_tables_match_the_models():
    stored = json.loads(model_tables.FILE.read_text(encoding="utf-8"))
    fresh = model_tables.generate()
    assert sorted(stored) == sorted(fresh), "run `python -m core.model_tables`"
    for k in fresh:
        assert stored[k] == fresh[k], f"{k}: stale table, run `python -m core.model_tables`"


def test_report_pages_import_neither_keras_nor_tensorflow():
    code = ("import sys\nfrom core import report\n"
            "for key, make in report.PAGES:\n    make('en')\n"
            "print(sorted(m for m in ('keras', 'tensorflow', 'jax') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "[]"
