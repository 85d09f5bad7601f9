"""Distillation (data.distill): the student's loss, the teachers' soft
targets, and the checks that refuse a teacher before any training."""
import numpy as np
import pytest

from core.config import ConfigError, validate
from experiments import get_config
from experiments.captcha import task


def _targets(label, teacher):
    return np.concatenate([np.asarray(label, "float32")[:, None], teacher], axis=1)


def test_distill_loss_is_the_label_loss_the_teacher_loss_or_their_mix():
    rng = np.random.default_rng(0)
    q = rng.dirichlet(np.ones(19), size=8).astype("float32")        # the student's head
    teacher = rng.dirichlet(np.ones(19), size=8).astype("float32")  # already tempered
    label = rng.integers(0, 19, size=8)
    y = _targets(label, teacher)
    hard = -np.log(q[np.arange(8), label])
    for t in (1.0, 4.0):
        q_t = q ** (1 / t) / (q ** (1 / t)).sum(-1, keepdims=True)
        soft = -(teacher * np.log(q_t)).sum(-1) * t * t
        for a in (0.0, 0.5, 1.0):
            got = float(task.DistillCE(t, a)(y, q))
            assert got == pytest.approx(float(np.mean(a * soft + (1 - a) * hard)), rel=1e-4), (t, a)
    assert float(np.asarray(task.label_accuracy(y, q)).mean()) == pytest.approx(np.mean(q.argmax(-1) == label))


def test_tempered_softens_and_keeps_the_order():
    p = np.array([[0.97, 0.02, 0.01]])
    assert np.allclose(task.tempered(p, 1.0), p, atol=1e-6)
    soft = task.tempered(p, 4.0)
    assert soft.sum() == pytest.approx(1.0) and soft[0, 0] < 0.97 and (np.diff(soft[0]) < 0).all()


def test_targets_put_the_label_first_then_the_teacher():
    y = np.array([[1, 2, 3, 4]])
    soft = np.full((1, 4, 19), 1 / 19, "float32")
    out = task.targets(y, soft)
    assert list(out) == task.HEADS and out[task.HEADS[2]].shape == (1, 20) and out[task.HEADS[2]][0, 0] == 3
    assert task.targets(y)[task.HEADS[0]].tolist() == [1]


def test_a_teacher_is_refused_before_training(tmp_path):
    cfg = get_config("captcha-xsrc-to-hand-distil")["data"]
    x = [np.zeros((2, 40, 112, 1), "float32")]
    with pytest.raises(ValueError, match="no finished run"):
        task.teacher_probs(cfg["distill"], cfg, x, root=tmp_path)
    with pytest.raises(ValueError, match="not an experiment"):
        task.teacher_probs({"teachers": "no-such-experiment"}, cfg, x, root=tmp_path)
    from core.records import DEFAULT_RUNS_DIR
    if not (DEFAULT_RUNS_DIR / "captcha-xsrc-to-hand-clean").is_dir():
        pytest.skip("the committed teacher runs are not in this checkout")
    other = {**cfg, "preprocess_options": {"height": 40, "width": 112}}  # the arc not undone
    with pytest.raises(ValueError, match="reads"):
        task.teacher_probs(cfg["distill"], other, x)


def test_distill_config_is_checked():
    good = {**get_config("captcha-xsrc-to-verified-distil"), "seed": 0}
    assert validate(good)["data"]["distill"]["teachers"] == "captcha-xsrc-to-verified-clean"
    for bad in ({"teachers": 3}, {"teachers": "x", "temperature": 0}, {"teachers": "x", "alpha": 2},
                {"teachers": "x", "weight": 1}):
        cfg = {**get_config("captcha-xsrc-to-verified-distil"), "seed": 0}
        cfg["data"]["distill"] = bad
        with pytest.raises(ConfigError, match="distill"):
            validate(cfg)


def test_label_loss_is_the_sum_of_the_heads_label_losses():
    import keras
    rng = np.random.default_rng(1)
    probs = rng.dirichlet(np.ones(19), size=(6, 4)).astype("float32")
    y = rng.integers(0, 19, size=(6, 4))
    want = sum(float(np.mean(keras.losses.sparse_categorical_crossentropy(y[:, i], probs[:, i])))
               for i in range(4))
    assert task.label_loss(probs, y) == pytest.approx(want, rel=1e-5)


def test_a_distilled_run_is_selected_on_the_labels_loss_as_its_twin():
    """val_loss mixes in the teachers; early stopping, the learning-rate
    halving and the best epoch kept all watch val_label_loss instead."""
    cfg = {**get_config("captcha-xsrc-to-hand-distil"), "seed": 0}
    twin = get_config("captcha-xsrc-to-hand-clean")
    for key in ("early_stopping", "reduce_lr"):
        assert cfg["train"][key] == {**twin["train"][key], "monitor": "val_label_loss", "mode": "min"}
    validate(cfg)
    cfg["train"]["early_stopping"]["mode"] = "max"  # TrainingState keeps the lowest: refused
    with pytest.raises(ConfigError, match="mode"):
        validate(cfg)
