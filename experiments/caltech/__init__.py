"""The 50-class study (seed 000): a baseline CNN on fifty Caltech-101
classes and the tuning techniques the seed tried on it, one page each,
ending with their best combination.

configs.py declares the experiments, techniques and claims; data.py,
augment.py, models.py and task.py read, augment, build and train;
evaluate.py, ensemble.py and tools.py score and explain; report.py writes
the technique pages and the Overview's part, app.py the pages' interactive
panels; content/ holds its texts. `python -m experiments.caltech download`
fetches the data.
"""
import functools
from pathlib import Path


from core.study import Dataset, Page, Study, local, resolve
from core.text import add_content, text as tx

add_content(Path(__file__).parent / "content")  # its claims' texts are read as they are declared

from experiments.caltech import keys
from experiments.caltech.configs import *  # noqa: F401,F403 - the declarations, as always imported from here
from experiments.caltech.configs import CLAIMS, EXPERIMENTS, TECHNIQUES, variants_of

ORDER = 30

# Material icons: they render in every browser, emoji need an emoji font.
ICONS = dict(zip(TECHNIQUES, (f":material/{name}:" for name in (
    "photo_size_select_large", "balance", "stacks", "shuffle", "speed", "trending_down", "layers",
    "equalizer", "waves", "border_outer", "show_chart", "flip", "account_tree"))))
# The panels a technique's page draws after its explanation (experiments/caltech/app.py).
PANELS = {"activation": "activation_panel", "augmentation": "augmentation_preview_panel",
          "same-padding": "padding_calculator", "class-weights": "class_weight_panel"}


def _technique_page(technique: str) -> Page:
    en, zh, key, _ = TECHNIQUES[technique]
    return Page(key, {"en": en, "zh": zh}, ICONS[technique],
                blocks=functools.partial(_blocks, technique),
                panel=f"experiments.caltech.app:{PANELS[technique]}" if technique in PANELS else None,
                retrain=lambda: ["c50-baseline", *variants_of(technique)],
                export_title=lambda lang: tx(lang, "export.page-c50", name=local(lang, {"en": en, "zh": zh})))


def _blocks(technique, lang="en", root=None):
    # by name, imported when a page is drawn: listing experiments imports no report code
    return resolve("experiments.caltech.report:technique_blocks")(technique, lang, root)


STUDY = Study(
    name="caltech",
    title="nav.techniques",
    intro="overview.intro-caltech",
    experiments=EXPERIMENTS,
    claims=CLAIMS,
    tasks={"caltech50": "experiments.caltech.task:ImageFolderTask"},
    datasets=[Dataset("caltech101", "experiments.caltech.data:caltech_status",
                      missing=("experiments.caltech.data:ImageDataNotFound",))],
    config_keys={"data": keys.DATA, "train": keys.TRAIN},
    check="experiments.caltech.keys:check",
    models=["experiments.caltech.models"],
    pages=[*(_technique_page(t) for t in TECHNIQUES),
           Page("c50-best", "nav.best", ":material/emoji_events:", blocks="experiments.caltech.report:best_blocks",
                retrain=lambda: [n for n, get in EXPERIMENTS.items() if get(False)["group"] == "c50-best"],
                export_title=lambda lang: tx(lang, "export.page-c50", name=tx(lang, "nav.best")))],
    cards="experiments.caltech.report:cards",
    overview="experiments.caltech.report:overview",
    report="experiments.caltech.report:report_extras",
    report_rows="experiments.caltech.report:report_rows",
    content=Path(__file__).parent / "content",
    model_tables=Path(__file__).parent / "model_tables.json",
    model_sizes="experiments.caltech.configs:model_sizes",
    sized_table="experiments.caltech.models:sized_table",
    package=Path(__file__).parent,
)
