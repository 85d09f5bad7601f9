"""Seed 000, augmentation: explanation, runs, verdict, retrain."""
from experiments.caltech import variants_of
from app_pages._caltech import augmentation_preview_panel
from app_pages._common import page_blocks, render
from app_pages._retrain import retrain_panel

blocks = page_blocks("c50-augmentation")
render(blocks[:2])  # title and explanation
augmentation_preview_panel()
render(blocks[2:])
retrain_panel(["c50-baseline", *variants_of("augmentation")])
