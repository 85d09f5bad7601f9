"""Seed 000, learning rate: explanation, runs, verdict, retrain."""
from experiments.caltech import variants_of
from app_pages._common import page_blocks, render
from app_pages._retrain import retrain_panel

render(page_blocks("c50-learning-rate"))
retrain_panel(["c50-baseline", *variants_of("learning-rate")])
