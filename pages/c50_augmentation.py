"""Seed 000, augmentation: explanation, runs, verdict, retrain."""
from experiments.caltech import variants_of
from pages._caltech import augmentation_preview_panel
from pages._common import page_blocks, render
from pages._retrain import retrain_panel

blocks = page_blocks("c50-augmentation")
render(blocks[:2])  # title and explanation
augmentation_preview_panel()
render(blocks[2:])
retrain_panel(["c50-baseline", *variants_of("augmentation")])
