"""Experiments declared as data: each name maps to a config function.

`get_config(name, quick=False)` returns the config dict (without a seed); the
quick switch shrinks data and epochs so the same experiment runs in seconds
for CI, big_vision style.
"""
from __future__ import annotations

from experiments import caltech, captcha, mnist

EXPERIMENTS: dict = {}
CLAIMS: list = []  # the seeds' claims, each with the experiments that test it
for _module in (mnist, captcha, caltech):
    EXPERIMENTS.update(_module.EXPERIMENTS)
    CLAIMS.extend(_module.CLAIMS)


class UnknownExperiment(KeyError):
    pass


def get_config(name: str, quick: bool = False) -> dict:
    if name not in EXPERIMENTS:
        close = [n for n in EXPERIMENTS if name.split("-")[0] in n][:5]
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise UnknownExperiment(f"unknown experiment {name!r}{hint} "
                                "(`python -m experiments list` shows them all)")
    return EXPERIMENTS[name](quick)
