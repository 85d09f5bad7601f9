"""MNIST (seed 002, part I): the seed's protocols reproduced, controls, a fair comparison."""
from experiments import EXPERIMENTS
from app_pages._common import page_blocks, render
from app_pages._retrain import retrain_panel

render(page_blocks("mnist"))
retrain_panel([n for n in EXPERIMENTS if n.startswith("mnist-")])
