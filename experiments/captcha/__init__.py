"""The THSR booking-captcha study (seed 002, part II) and its reader.

Four characters per captcha from a 19-character alphabet; every model has
four softmax heads, one per position. configs.py declares the experiments;
data.py, preprocess.py, models.py and task.py read, prepare, build and
train; audit.py, relabel.py and ensemble.py clean and score labels;
recognizer.py and light.py are the reader (`python -m experiments.captcha
predict`, the light one without TensorFlow); report.py writes the Models
page, pages/ holds the app's interactive pages, content/ its texts.
"""
from pathlib import Path

from experiments.captcha.labels import (ALPHABET, INDEX, N_CHARS, LabelError, decode, encode,  # noqa: F401
                                        normalise_label, read_labels)

# --- the study (core/study.py) -----------------------------------------------------

from core.study import Dataset as _Dataset, Page as _Page, Study as _Study  # noqa: E402
from experiments.captcha import keys as _keys  # noqa: E402
from experiments.captcha.configs import *  # noqa: E402,F401,F403
from experiments.captcha.configs import CLAIMS, EXPERIMENTS  # noqa: E402

ORDER = 20

STUDY = _Study(
    name="captcha",
    title="nav.captcha",
    intro="overview.intro-captcha",
    experiments=EXPERIMENTS,
    claims=CLAIMS,
    tasks={"thsr-captcha": "experiments.captcha.task:CaptchaTask"},
    datasets=[_Dataset("thsr-captcha", "experiments.captcha.data:captcha_status",
                       missing=("experiments.captcha.data:CaptchaDataNotFound",))],
    config_keys={"data": _keys.DATA},
    check="experiments.captcha.keys:check",
    models=["experiments.captcha.models"],
    pages=[
        _Page("captcha", "nav.captcha-demo", ":material/text_fields:", script="pages/demo.py"),
        _Page("captcha-preprocessing", "nav.captcha-preprocess", ":material/cleaning_services:",
              script="pages/preprocess.py"),
        _Page("captcha-models", "nav.captcha-models", ":material/insights:",
              blocks="experiments.captcha.report:captcha_models_blocks",
              after="experiments.captcha.app:failure_gallery",
              retrain=lambda: [n for n in EXPERIMENTS if n.startswith("captcha-")],
              export_title="export.page-captcha-models"),
    ],
    cards="experiments.captcha.report:captcha_cards",
    content=Path(__file__).parent / "content",
    model_tables=Path(__file__).parent / "model_tables.json",
    package=Path(__file__).parent,
)
