"""The MNIST study (seed 002, part I): two dense nets and two CNNs, the
seed's protocols reproduced, controls, and a fair comparison.

configs.py declares the experiments and the seed's claims, loader.py and
data.py read MNIST and split it as the seed did, models.py builds the
networks, task.py trains them, report.py writes its page and its part of the
Overview; content/ holds its texts. `python -m experiments.mnist download`
fetches the data.
"""
from pathlib import Path

from core.study import Dataset, Page, Study
from core.text import add_content

add_content(Path(__file__).parent / "content")  # its claims' texts are read as they are declared

from experiments.mnist import keys
from experiments.mnist.configs import *  # noqa: F401,F403 - the declarations, as always imported from here
from experiments.mnist.configs import CLAIMS, EXPERIMENTS

ORDER = 10  # seed 002's first part comes first

STUDY = Study(
    name="mnist",
    title="MNIST",
    intro="overview.intro-mnist",
    experiments=EXPERIMENTS,
    claims=CLAIMS,
    tasks={"mnist": "experiments.mnist.task:MnistTask"},
    datasets=[Dataset("mnist", "experiments.mnist.loader:mnist_status",
                      missing=("experiments.mnist.loader:MnistNotFound",))],
    config_keys={"data": keys.DATA},
    models=["experiments.mnist.models"],
    pages=[Page("mnist", "nav.mnist", ":material/draw:", blocks="experiments.mnist.report:mnist_blocks",
                retrain=lambda: [n for n in EXPERIMENTS if n.startswith("mnist-")],
                export_title="export.page-mnist")],
    cards="experiments.mnist.report:cards",
    overview="experiments.mnist.report:overview",
    content=Path(__file__).parent / "content",
    model_tables=Path(__file__).parent / "model_tables.json",
    package=Path(__file__).parent,
)
