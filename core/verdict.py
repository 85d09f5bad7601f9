"""Is a difference between two experiments real, given seed-to-seed noise?

The rule (shown on the Overview page):
  diff = mean(variant) - mean(baseline) over seeds, in test accuracy;
  se   = sqrt(sd_v^2 / n_v + sd_b^2 / n_b)   (Welch's standard error);
  "up" if diff > 2 se and diff >= MIN_EFFECT, "down" symmetrically,
  otherwise "unchanged"; "not enough runs" with fewer than two seeds a side.
Two standard errors is roughly a 95 % interval under normality. With three
seeds a side that is a coarse guard, not a significance test, which is why the
page shows diff and se and not only the word. MIN_EFFECT keeps a difference
of a few hundredths of a point from being called a change when both sides
happen to have near-zero spread.
"""
from __future__ import annotations

import math

MIN_EFFECT = 0.001  # 0.1 percentage points of accuracy
Z = 2.0


def compare(variant: dict, baseline: dict) -> dict:
    """Both arguments are rows of core.results.experiment_rows()."""
    nv, nb = variant.get("n_done", 0), baseline.get("n_done", 0)
    out = {"variant": variant["experiment"], "baseline": baseline["experiment"],
           "n_variant": nv, "n_baseline": nb, "diff": None, "se": None,
           "verdict": "not enough runs"}
    if nv < 1 or nb < 1:
        return out
    diff = variant["test_acc_mean"] - baseline["test_acc_mean"]
    if nv < 2 or nb < 2:
        # A difference of single runs is shown, never judged: it has no spread.
        out["diff"] = diff
        return out
    se = math.sqrt(variant["test_acc_std"] ** 2 / nv + baseline["test_acc_std"] ** 2 / nb)
    if diff > Z * se and diff >= MIN_EFFECT:
        verdict = "up"
    elif diff < -Z * se and -diff >= MIN_EFFECT:
        verdict = "down"
    else:
        verdict = "unchanged"
    out.update({"diff": diff, "se": se, "verdict": verdict})
    return out


def claim_rows(claims: list[dict], rows: list[dict]) -> list[dict]:
    """One row per (claim, test): did the 'better' side come out ahead?"""
    by_name = {r["experiment"]: r for r in rows}
    out = []
    for claim in claims:
        for index, (better, worse, how) in enumerate(claim["tests"]):
            if better not in by_name or worse not in by_name:
                continue
            c = compare(by_name[better], by_name[worse])
            holds = {"up": "holds", "down": "reversed", "unchanged": "no measurable difference"}
            out.append({**c, "claim_id": claim["id"], "claim": claim["claim"], "how": how,
                        "seed_verdict": claim["seed_verdict"], "page": claim["page"],
                        "as_seed_ran_it": index == 0,
                        "outcome": holds.get(c["verdict"], c["verdict"])})
    return out
