"""Seed 000, best combination: the helpful techniques together, against the +15-point goal."""
from experiments.caltech import EXPERIMENTS
from app_pages._common import page_blocks, render
from app_pages._retrain import retrain_panel

render(page_blocks("c50-best"))
retrain_panel([n for n, get in EXPERIMENTS.items() if get(False)["group"] == "c50-best"])
