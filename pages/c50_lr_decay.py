"""Seed 000, learning-rate decay: explanation, runs, verdict, retrain."""
from experiments.caltech import variants_of
from pages._common import page_blocks, render, retrain_panel

render(page_blocks("c50-lr-decay"))
retrain_panel(["c50-baseline", *variants_of("lr-decay")])
