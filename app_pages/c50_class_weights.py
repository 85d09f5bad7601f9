"""Seed 000, class weights: explanation, runs, verdict, retrain."""
from experiments.caltech import variants_of
from app_pages._caltech import class_weight_panel
from app_pages._common import page_blocks, render
from app_pages._retrain import retrain_panel

blocks = page_blocks("c50-class-weights")
render(blocks[:2])  # title and explanation
class_weight_panel()
render(blocks[2:])
retrain_panel(["c50-baseline", *variants_of("class-weights")])
