"""Augmentation specs of the 50-class study as plain data (no Keras), so that
experiments are declared, and pages show their settings, without importing
the framework. experiments.caltech.models turns a spec into layers."""

NO_AUGMENT = {"flip": None, "rotation": 0.0, "zoom": 0.0, "translation": 0.0, "contrast": 0.0}
# The seed's augmentation block, verbatim in effect.
SEED_AUGMENT = {**NO_AUGMENT, "flip": "horizontal_and_vertical", "rotation": 0.2}
