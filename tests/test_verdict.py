import pytest

from core.verdict import MIN_EFFECT, claim_rows, compare


def row(name, mean, std, n):
    return {"experiment": name, "test_acc_mean": mean, "test_acc_std": std, "n_done": n}


def test_clear_gain_is_up_and_clear_loss_is_down():
    assert compare(row("v", 0.99, 0.001, 3), row("b", 0.97, 0.001, 3))["verdict"] == "up"
    assert compare(row("v", 0.97, 0.001, 3), row("b", 0.99, 0.001, 3))["verdict"] == "down"


def test_difference_inside_the_noise_is_unchanged():
    c = compare(row("v", 0.975, 0.01, 3), row("b", 0.970, 0.01, 3))
    assert c["verdict"] == "unchanged"
    assert c["diff"] == pytest.approx(0.005) and c["se"] == pytest.approx((2 * 0.01 ** 2 / 3) ** 0.5)


def test_tiny_difference_with_zero_spread_is_unchanged():
    assert compare(row("v", 0.99 + MIN_EFFECT / 2, 0.0, 3), row("b", 0.99, 0.0, 3))["verdict"] == "unchanged"


def test_single_seed_is_not_enough():
    c = compare(row("v", 0.99, 0.0, 1), row("b", 0.5, 0.0, 3))
    assert c["verdict"] == "not enough runs"
    # The raw difference is shown, but without a spread nothing is judged.
    assert c["diff"] == pytest.approx(0.49) and c["se"] is None
    assert compare(row("v", 0.99, 0.0, 0), row("b", 0.5, 0.0, 3))["diff"] is None


def test_claim_rows_read_the_direction_of_the_claim():
    claims = [{"id": "c", "claim": {"en": "a beats b"}, "seed_verdict": {"en": "better"},
               "page": "p", "tests": [("a", "b", "fair")]}]
    out = claim_rows(claims, [row("a", 0.95, 0.001, 3), row("b", 0.99, 0.001, 3)])
    assert out[0]["outcome"] == "reversed"
