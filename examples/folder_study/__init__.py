"""A study of your own, in one folder: an image classifier trained on
<data dir>/shapes/<class>/*.png (one sub-folder per class).

Load it with `CNNLAB_PLUGINS=examples.folder_study` (no file of the project
is edited). This package registers one Study (core/study.py): its task (how
to read the data), its dataset (how the Data page tells whether it is there,
and the command that makes it), its config keys, its model, two experiments,
a report page, an Overview card and its texts in two languages. The command
line, the background jobs, the app and the exports then know it like any of
the built-in studies. `python -m examples.folder_study make` writes a small
folder of shapes to try it on.
"""
from pathlib import Path

from core.config import pos_int
from core.study import Dataset, Page, Study

HERE = Path(__file__).parent


def shapes(width: int) -> dict:
    return {
        "title": f"Shapes, {width} filters", "title_zh": f"形狀，{width} 個濾波器",
        "data": {"dataset": "image-folder", "images": "shapes", "side": 32},
        "model": {"name": "folder_cnn", "kwargs": {"width": width}},
        "train": {"epochs": 8, "batch_size": 16, "optimizer": "adam", "learning_rate": 0.003},
    }


def _get(name: str, config: dict):
    def get(quick: bool = False) -> dict:
        out = {**config, "experiment": name, "group": "shapes", "data": dict(config["data"]),
               "train": dict(config["train"])}
        if quick:  # the same path in seconds
            out["train"]["epochs"] = 2
            out["title"] += " (quick)"
        return out
    return get


EXPERIMENTS = {name: _get(name, shapes(width)) for name, width in (("shapes-narrow", 4), ("shapes-wide", 16))}
TITLE = {"en": "Shapes: does a wider network help?", "zh": "形狀：較寬的網路有幫助嗎？"}


def _page(lang="en", root=None):
    # The page every study with a baseline can have (core/report.py): each
    # experiment against it with the verdict rule, and the training curves.
    from core.report import group_blocks
    return group_blocks("shapes", lang, root)


STUDY = Study(
    name="shapes",
    title={"en": "Your studies", "zh": "你的研究"},
    intro="shapes.intro",
    experiments=EXPERIMENTS,
    tasks={"image-folder": "examples.folder_study.task:FolderTask"},
    datasets=[Dataset("shapes", "examples.folder_study.task:status",
                      missing=("examples.folder_study.task:ShapesNotFound",))],
    config_keys={"data": {"images": lambda v: isinstance(v, str) and v != "", "side": pos_int}},
    models=["examples.folder_study.models"],
    pages=[Page("shapes", TITLE, blocks=_page, retrain=lambda: list(EXPERIMENTS))],
    cards="examples.folder_study.report:cards",
    content=HERE / "content",
    package=HERE,
    declared={"title": TITLE, "baseline": "shapes-narrow", "experiments": list(EXPERIMENTS),
              "text": {"en": "Four filters in the first layer against sixteen, three seeds each.",
                       "zh": "第一層四個濾波器對十六個，各三個種子。"}},
)
