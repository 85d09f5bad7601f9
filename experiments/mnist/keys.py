"""The MNIST study's config keys (seed 002's data protocols: which pool, how
big, which subset; core/config.py checks them)."""
from __future__ import annotations

from core.config import one_of, opt, pos_int

DATA = {
    "pool": one_of("train55k", "train60k"),
    "pool_size": opt(pos_int),
    "subset": one_of("random", "first"),
}
