"""The captcha study's config keys and the rules across them (core/config.py
checks every config against the engine's keys plus each study's)."""
from __future__ import annotations

from core.config import ConfigError, num, one_of, opt, pos_int

DATA = {
    "preprocess": one_of("nopre", "dn2", "grey"),
    "preprocess_options": lambda v: isinstance(v, dict),
    "test_size": pos_int,
    # leave one source out: test on every captcha of this set, train on the others
    "test_source": opt(lambda v: isinstance(v, str) and v != ""),
    # a committed list of cleaner training/validation labels (experiments/captcha/relabel.py)
    "relabel": opt(lambda v: isinstance(v, dict) and isinstance(v.get("name"), str)
                   and set(v) <= {"name", "sha1"}),
    # generated captchas added to training (experiments/captcha/data.py:synthetic_set)
    "synthetic": opt(lambda v: isinstance(v, dict) and set(v) <= {"n", "scaled"} and pos_int(v.get("n"))
                     and num(v.get("scaled", 0.25)) and 0 <= v.get("scaled", 0.25) <= 1),
    # soft targets: the averaged readings of an experiment's finished runs (its
    # ensemble), mixed with the labels (experiments/captcha/task.py: DistillCE)
    "distill": opt(lambda v: isinstance(v, dict) and set(v) <= {"teachers", "temperature", "alpha"}
                   and isinstance(v.get("teachers"), str) and num(v.get("temperature", 1.0))
                   and v.get("temperature", 1.0) > 0 and num(v.get("alpha", 0.5)) and 0 <= v.get("alpha", 0.5) <= 1),
}


def check(config: dict) -> None:
    """Captcha-only keys in a captcha config, and only there."""
    data = config["data"]
    if data["dataset"] == "thsr-captcha" and "preprocess" not in data:
        raise ConfigError("data.preprocess: required for thsr-captcha (nopre, dn2 or grey)")
    if data.get("test_source") and data["dataset"] != "thsr-captcha":
        raise ConfigError("data.test_source: only the captcha study has sources to leave out")
    if data.get("test_source") and "test_size" in data:
        raise ConfigError("data.test_source: the whole source is the test set; drop test_size")
    if data.get("relabel") and data["dataset"] != "thsr-captcha":
        raise ConfigError("data.relabel: only captcha labels have relabel lists")
    if data.get("synthetic") and data["dataset"] != "thsr-captcha":
        raise ConfigError("data.synthetic: only the captcha study has a generator")
    if data.get("distill") and data["dataset"] != "thsr-captcha":
        raise ConfigError("data.distill: only captcha models have teachers here")
