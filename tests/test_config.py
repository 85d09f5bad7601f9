import pytest

from core.config import ConfigError, set_path, validate
from experiments import EXPERIMENTS, UnknownExperiment, get_config


@pytest.mark.parametrize("name", sorted(EXPERIMENTS))
@pytest.mark.parametrize("quick", [False, True])
def test_every_declared_experiment_is_valid(name, quick):
    cfg = get_config(name, quick)
    assert validate({**cfg, "seed": 0})["experiment"] == name


def test_quick_shrinks_but_keeps_the_model():
    full, quick = get_config("mnist-seed-cnn1"), get_config("mnist-seed-cnn1", quick=True)
    assert quick["model"] == full["model"]
    assert quick["train"]["epochs"] == 2 < full["train"]["epochs"]


@pytest.mark.parametrize("key,value,match", [
    ("train.epochs", "-1", "train.epochs"),
    ("train.optimizer", '"adamw2"', "train.optimizer"),
    ("data.pool", '"train99k"', "data.pool"),
    ("train.batchsize", "32", "train.batchsize: unknown key"),
    ("model.name", '"resnet9000"', "model.name: unknown model"),
    ("train.early_stopping", '{"patience": "x"}', "train.early_stopping.patience"),
    ("train.mix", '{"cutout": 1.0}', "train.mix: invalid"),
    ("train.mix", '{"mixup": 0}', "train.mix: invalid"),
    ("train.mix", '{"mixup": 0.2}', "train.mix: only the caltech50"),
])
def test_bad_values_name_the_key(key, value, match):
    cfg = set_path({**get_config("mnist-fair-cnn1"), "seed": 0}, key, value)
    with pytest.raises(ConfigError, match=match):
        validate(cfg)


def test_missing_required_key():
    cfg = {**get_config("mnist-fair-cnn1"), "seed": 0}
    del cfg["train"]["epochs"]
    with pytest.raises(ConfigError, match="train.epochs: required"):
        validate(cfg)


def test_unknown_experiment():
    with pytest.raises(UnknownExperiment, match="mnist-cnn9"):
        get_config("mnist-cnn9")


def test_optimizer_from_train_config_weight_decay_and_cosine():
    import keras

    from core.train import make_optimizer
    opt = make_optimizer({"optimizer": "adam", "learning_rate": 2e-3, "batch_size": 32, "epochs": 10,
                          "lr_schedule": "cosine", "weight_decay": 0.05}, n_train=100)
    assert opt.weight_decay == 0.05
    assert isinstance(opt._learning_rate, keras.optimizers.schedules.CosineDecay)
    assert opt._learning_rate.decay_steps == 4 * 10  # ceil(100 / 32) steps an epoch
    plain = make_optimizer({"learning_rate": 1e-3, "batch_size": 32, "epochs": 1}, n_train=10)
    assert isinstance(plain, keras.optimizers.Adam) and plain.weight_decay is None
