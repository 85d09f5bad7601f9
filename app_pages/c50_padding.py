"""Seed 000, same padding: explanation, runs, verdict, retrain."""
from experiments.caltech import variants_of
from app_pages._caltech import padding_calculator
from app_pages._common import page_blocks, render
from app_pages._retrain import retrain_panel

blocks = page_blocks("c50-padding")
render(blocks[:2])  # title and explanation
padding_calculator()
render(blocks[2:])
retrain_panel(["c50-baseline", *variants_of("same-padding")])
