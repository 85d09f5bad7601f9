"""Seed 000: the 50-class classifier and every tuning technique it tried.

One baseline (the seed's model and protocol at our input size) and, per
technique, the variants the seed tried plus one where it teaches something.
Each variant changes exactly one thing against `c50-baseline`; all share the
data split, the epoch budget and early stopping on validation loss, so each
comparison is fair.

Budget (measured on the 2-core development machine, where the study must fit
in 4 hours): the seed trained at 128 x 128. Here the baseline takes ~62 s an
epoch at 128 x 128, ~14 s at 64 x 64 and the Kaggle architectures 40-60 s at
64 x 64; a pilot of seed 0 at 64 x 64 projected about 5 hours for the 25
variants x 3 seeds. We therefore train at 48 x 48 (about half the work of
64 x 64) with a 15-epoch budget and early stopping on validation loss
(patience 3), and keep every variant and its three seeds; the image-size
experiment brackets 48 with 32 and 64. For this model smaller inputs are not
a handicap: in the pilot, 32 x 32 beat 64 x 64 (fewer weights in the dense
layer, less overfitting). The seed's batch size for this model is not stated;
32 is Keras's default and the one its "other architectures" used.
"""
from __future__ import annotations

import copy

from experiments.caltech.augment import SEED_AUGMENT

SOURCE = "seed 000"
SIZE = 48
EPOCHS = 15

BASE = {
    "group": "c50",
    "data": {"dataset": "caltech50", "n_classes": 50, "image_size": SIZE, "shuffle_buffer": None},
    "model": {"name": "c50_baseline", "kwargs": {}},
    "train": {"epochs": EPOCHS, "batch_size": 32, "optimizer": "adam", "learning_rate": 0.001,
              "early_stopping": {"monitor": "val_loss", "patience": 3},
              "reduce_lr": None, "restore_best": True, "class_weight": None},
}

# Seed 000's table of conclusions (心得): validation accuracy change per technique.
SEED_VERDICTS = {
    "image-size": ("slightly up overall", "整體微升"),
    "class-weight-1": ("unchanged", "不變"),
    "class-weight-2": ("unchanged", "不變"),
    "batch-size": ("up overall", "整體上升"),
    "shuffle-buffer": ("unchanged", "不變"),
    "learning-rate": ("up overall", "整體上升"),
    "lr-decay": ("unchanged", "不變"),
    "small-kernels": ("unchanged", "不變"),
    "batchnorm": ("unchanged", "不變"),
    "avg-pooling": ("unchanged", "不變"),
    "same-padding": ("unchanged", "不變"),
    "activation": ("down overall", "整體下降"),
    "augmentation": ("up overall", "整體上升"),
    "architectures": ("unchanged", "不變"),
}

# technique id -> (English name, 中文名稱, page, [(experiment, change, 中文), ...])
TECHNIQUES = {
    "image-size": ("Image size", "調整圖片大小", "c50-image-size", [
        ("c50-size-32", {"data.image_size": 32}, "32 x 32", "32 x 32"),
        ("c50-size-64", {"data.image_size": 64}, "64 x 64", "64 x 64")]),
    "class-weights": ("Class weights", "樣本權重", "c50-class-weights", [
        ("c50-cw-max", {"train.class_weight": "max_over_count"},
         "formula 1: largest class count / class count", "公式一：最大樣本數 / 該標籤樣本數"),
        ("c50-cw-balanced", {"train.class_weight": "balanced"},
         "formula 2: total / (classes x class count)", "公式二：總樣本數 / (標籤數 x 該標籤樣本數)")]),
    "batch-size": ("Batch size", "調整批次大小", "c50-batch-size", [
        ("c50-batch-16", {"train.batch_size": 16}, "batch 16", "批次 16"),
        ("c50-batch-128", {"train.batch_size": 128}, "batch 128", "批次 128")]),
    "shuffle-buffer": ("Shuffle-buffer size", "調整打亂緩衝區大小", "c50-shuffle-buffer", [
        ("c50-shuffle-16", {"data.shuffle_buffer": 16}, "buffer 16 (tiny)", "緩衝區 16（極小）"),
        ("c50-shuffle-1024", {"data.shuffle_buffer": 1024}, "buffer 1,024 (large)",
         "緩衝區 1,024（大）")]),
    "learning-rate": ("Learning rate", "設定學習率", "c50-learning-rate", [
        ("c50-lr-1e-4", {"train.learning_rate": 1e-4}, "1e-4", "1e-4"),
        ("c50-lr-1e-2", {"train.learning_rate": 1e-2}, "1e-2", "1e-2")]),
    "lr-decay": ("Learning-rate decay", "設定學習率衰退", "c50-lr-decay", [
        ("c50-decay-plateau",
         {"train.reduce_lr": {"monitor": "val_loss", "factor": 0.5, "patience": 1, "min_lr": 1e-5}},
         "ReduceLROnPlateau (halve after 1 flat epoch)", "ReduceLROnPlateau（停滯 1 個 epoch 減半）"),
        ("c50-decay-cosine", {"train.lr_schedule": "cosine"}, "cosine decay to 0 over the budget",
         "餘弦衰減（在預算內降到 0）")]),
    "small-kernels": ("Stacked small kernels", "調整模型（多層小卷積核）", "c50-small-kernels", [
        ("c50-small-kernels", {"model.name": "c50_small_kernels"},
         "three 3x3 convs per stage (8-16-16, 32-16-16)", "每段三層 3x3 卷積（8-16-16、32-16-16）")]),
    "batchnorm": ("BatchNormalization", "Batch Normalization", "c50-batchnorm", [
        ("c50-batchnorm", {"model.kwargs.batchnorm": True}, "after each conv and the dense layer",
         "每個卷積層與全連接層之後")]),
    "avg-pooling": ("Average pooling", "AveragePooling", "c50-pooling", [
        ("c50-avgpool", {"model.kwargs.pooling": "average"}, "AveragePooling2D", "AveragePooling2D")]),
    "same-padding": ("Same padding", "Same Padding", "c50-padding", [
        ("c50-same-padding", {"model.kwargs.padding": "same"}, "same padding", "same padding")]),
    "activation": ("Activation", "更改激活函數", "c50-activation", [
        ("c50-act-sigmoid", {"model.kwargs.activation": "sigmoid"}, "sigmoid", "sigmoid"),
        ("c50-act-gelu", {"model.kwargs.activation": "gelu"}, "GELU", "GELU")]),
    "augmentation": ("Augmentation", "數據增強", "c50-augmentation", [
        ("c50-aug-seed", {"model.kwargs.augment": SEED_AUGMENT},
         "the seed's: flip horizontal and vertical, rotation 0.2",
         "原報告：水平與垂直翻轉、旋轉 0.2"),
        ("c50-aug-hflip", {"model.kwargs.augment": {**SEED_AUGMENT, "flip": "horizontal"}},
         "flip horizontal only, rotation 0.2", "只水平翻轉、旋轉 0.2"),
        ("c50-aug-mild", {"model.kwargs.augment": {"flip": "horizontal", "rotation": 0.05,
                                                   "zoom": 0.1, "translation": 0.1}},
         "mild: horizontal flip, rotation 0.05, zoom and shift 0.1",
         "溫和：水平翻轉、旋轉 0.05、縮放與平移 0.1"),
        # Every variant above flips; c50-best-long-noaug (no augmentation)
        # beat every augmented network and lost 16 points on mirrored test
        # images, so the flip itself is the suspect. The mild variant minus
        # the flip tells the flip from the rest within the study's budget.
        ("c50-aug-noflip", {"model.kwargs.augment": {"rotation": 0.05, "zoom": 0.1, "translation": 0.1}},
         "mild without the flip: rotation 0.05, zoom and shift 0.1",
         "溫和但不翻轉：旋轉 0.05、縮放與平移 0.1")]),
    "architectures": ("Other architectures", "其他架構", "c50-architectures", [
        ("c50-arch-flower", {"model.name": "c50_flower"}, "flower recognition (Kaggle)",
         "花朵辨識架構"),
        ("c50-arch-digits", {"model.name": "c50_digits_advanced"},
         "advanced digit recognition (Kaggle)", "高級數字辨識架構"),
        ("c50-arch-catsdogs", {"model.name": "c50_cats_dogs"}, "cats vs dogs (Kaggle)",
         "貓狗辨識架構")]),
}

# Which seed verdict each technique's rows sit beside (class weights: one per formula).
SEED_VERDICT_OF = {"c50-cw-max": "class-weight-1", "c50-cw-balanced": "class-weight-2"}


def _set(cfg: dict, dotted: str, value) -> None:
    node = cfg
    *parents, last = dotted.split(".")
    for p in parents:
        node = node.setdefault(p, {})
    node[last] = copy.deepcopy(value)


def _quick(cfg: dict) -> dict:
    """CI: a few hundred images at 32 x 32 (or the variant's own size if
    smaller), two epochs; the same code path."""
    cfg = copy.deepcopy(cfg)
    d = cfg["data"]
    d.update({"train_limit": 300, "val_limit": 100, "test_limit": 100,
              "image_size": min(d["image_size"], 32)})
    cfg["train"]["epochs"] = 2
    cfg["title"] += " (quick)"
    return cfg


def _baseline() -> dict:
    cfg = copy.deepcopy(BASE)
    cfg.update({"title": f"Baseline: seed 000's model at {SIZE} x {SIZE}",
                "title_zh": f"基準：原報告模型，{SIZE} x {SIZE}",
                "notes": "3x3 conv 32, pool, 3x3 conv 64, pool, dense 256, dropout 0.5; Adam 1e-3, "
                         "batch 32, whole-set shuffle, early stopping on validation loss."})
    return cfg


def _variant_fn(technique: str, change: dict, label: str, label_zh: str):
    en, zh = TECHNIQUES[technique][:2]

    def fn() -> dict:
        cfg = _baseline()
        for k, v in change.items():
            _set(cfg, k, v)
        cfg.update({"title": f"{en}: {label}", "title_zh": f"{zh}：{label_zh}",
                    "notes": f"The baseline with one change: {label}."})
        return cfg
    return fn


_DEFS = {"c50-baseline": _baseline}
for _tech, (_en, _zh, _page, _variants) in TECHNIQUES.items():
    for _name, _change, _label, _label_zh in _variants:
        _DEFS[_name] = _variant_fn(_tech, _change, _label, _label_zh)


def _make(name, fn):
    def get(quick=False):
        cfg = fn()
        cfg["experiment"] = name
        return _quick(cfg) if quick else cfg
    return get


def _best() -> dict:
    """The techniques that helped, together. Chosen from seed 0 of every
    variant (single runs: BatchNormalization +4.8 points, ReduceLROnPlateau
    +2.2, same padding +2.0 over the baseline's 71.95 %); to be re-checked
    against the three-seed verdicts. Augmentation is left out: within this
    15-epoch budget every augmented variant learned too slowly to gain."""
    cfg = _baseline()
    _set(cfg, "model.kwargs.batchnorm", True)
    _set(cfg, "model.kwargs.padding", "same")
    _set(cfg, "train.reduce_lr", {"monitor": "val_loss", "factor": 0.5, "patience": 1, "min_lr": 1e-5})
    cfg.update({"group": "c50-best", "title": "Best combination: BatchNorm, same padding, LR on plateau",
                "title_zh": "最佳組合：BatchNorm、same padding、停滯時降低學習率",
                "notes": _best.__doc__.split("\n\n")[0].replace("\n    ", " ")})
    return cfg


_DEFS["c50-best"] = _best

# Beyond the study's budget. The combination above keeps the seed's model,
# whose flatten-into-dense-256 layer holds most of its weights and overfits
# within a few epochs; augmentation could not pay off in 15 epochs. These runs
# give a model built from the helpful techniques (3x3 same convs with
# BatchNorm, a larger input, a decaying learning rate, mild augmentation)
# plus global average pooling a longer budget, and give the baseline the same
# budget, schedule and stopping rule as a control, so that the gain is not the
# budget's. A first attempt (48 x 48, two convs in every stage, widths
# 24-48-96-192, LR halved on a 3-epoch plateau) had its rate cut to 1/8 by
# epoch 16 and stalled at 75-77 % validation accuracy by epoch 29 of 60; it
# was stopped there and is not committed. Hence a cosine schedule, which keeps
# the rate high for the first half, and 64 x 64 input, with a single
# convolution at full resolution to contain the cost (measured: about 70 s an
# epoch with the 2 cores to itself, 61 minutes for seed 0's 40 epochs, part
# of them shared). Docstrings below become their configs' notes, stored with
# each run (descriptive only: not part of the run's hash).
LONG = {"epochs": 40, "lr_schedule": "cosine", "early_stopping": {"monitor": "val_loss", "patience": 10}}
MILD_AUGMENT = TECHNIQUES["augmentation"][3][2][1]["model.kwargs.augment"]
BEST_SIZE = 64


def _baseline_long() -> dict:
    """Control for c50-best-long: the seed's model with the same 40-epoch
    budget, cosine schedule and stopping rule (patience 10)."""
    cfg = _baseline()
    cfg["train"].update(copy.deepcopy(LONG))
    cfg.update({"group": "c50-best", "title": "Control: the baseline with the long budget",
                "title_zh": "對照組：基準模型，長訓練預算",
                "notes": _baseline_long.__doc__.replace("\n    ", " ")})
    return cfg


def _best_long(augment=True, flip=True) -> dict:
    """A VGG-style net at 64 x 64 (3x3 same convs with BatchNorm: one at full
    resolution, then two per stage, widths 32-64-128-256; global average
    pooling, dropout 0.3; 1.18 M parameters against the baseline's 1.67 M)
    with mild augmentation, a cosine learning-rate decay over a 40-epoch
    budget and early stopping (patience 10)."""
    cfg = _baseline()
    cfg["data"]["image_size"] = BEST_SIZE
    cfg["model"] = {"name": "c50_vgg_gap",
                    "kwargs": {"widths": [32, 64, 128, 256], "convs": [1, 2, 2, 2], "dropout": 0.3,
                               **({"augment": _mild(flip)} if augment else {})}}
    cfg["train"].update(copy.deepcopy(LONG))
    title = "Best model: VGG-style, BatchNorm, GAP, 64 x 64, mild augmentation, long budget"
    title_zh = "最佳模型：VGG 式、BatchNorm、全域平均池化、64 x 64、溫和增強、長訓練預算"
    ablation = ""
    if not augment:
        title, title_zh = (title.replace("mild augmentation", "no augmentation"),
                           title_zh.replace("溫和增強", "無增強"))
        ablation = " Ablation: the same without augmentation."
    elif not flip:
        title, title_zh = (title.replace("mild augmentation", "mild augmentation without flips"),
                           title_zh.replace("溫和增強", "不含翻轉的溫和增強"))
        ablation = " Ablation: the same augmentation without the horizontal flip."
    cfg.update({"group": "c50-best", "title": title, "title_zh": title_zh,
                "notes": _best_long.__doc__.replace("\n    ", " ") + ablation})
    return cfg


def _mild(flip: bool) -> dict:
    spec = copy.deepcopy(MILD_AUGMENT)
    if not flip:
        spec.pop("flip")
    return spec


# c50-best-long fits its training images far better than it generalises
# (seed 0: 95 % training against 80 % validation accuracy at the end), so the
# next step regularises harder and trains longer: stronger augmentation (more
# rotation, zoom and shift, plus contrast), decoupled weight decay, and a
# 60-epoch cosine budget (about 75 minutes a seed on the 2 cores). Each of
# these is untested alone here; the noaug ablation of c50-best-long is what
# measures augmentation's share.
STRONG_AUGMENT = {"flip": "horizontal", "rotation": 0.1, "zoom": 0.2, "translation": 0.1, "contrast": 0.2}


def _best_strong() -> dict:
    """c50-best-long's network, regularised harder and trained longer: strong
    augmentation (horizontal flip, rotation 0.1, zoom 0.2, shift 0.1, contrast
    0.2), weight decay 0.05 (decoupled, as AdamW), cosine decay over 60 epochs,
    early stopping with patience 15."""
    cfg = _best_long()
    cfg["model"]["kwargs"]["augment"] = copy.deepcopy(STRONG_AUGMENT)
    cfg["train"].update({"epochs": 60, "weight_decay": 0.05,
                         "early_stopping": {"monitor": "val_loss", "patience": 15}})
    cfg.update({"title": "Best model, regularised: strong augmentation, weight decay, 60 epochs",
                "title_zh": "最佳模型加強正則化：強增強、權重衰減、60 個 epoch",
                "notes": _best_strong.__doc__.replace("\n    ", " ")})
    return cfg


# c50-best-strong still sees each photograph at 64 x 64, a bilinear shrink of
# images ~300 pixels wide. A 128 x 128 input read by a 5x5 stride-2 first
# convolution gives the network the detail the resize threw away at about the
# same cost (seed 0's median epoch: 69.3 s against c50-best-strong's 68.7 s
# on the 2 cores; a stride-1 first convolution at 128 measured ~1.9x the time
# per batch in a rough pilot). One change against
# c50-best-strong, so the pair measures what the resolution is worth.
HIRES_SIZE = 128


def _best_hires() -> dict:
    """c50-best-strong's network and recipe at 128 x 128: the first convolution
    becomes 5x5 with stride 2, so every later layer works at the resolution it
    had at 64 x 64."""
    cfg = _best_strong()
    cfg["data"]["image_size"] = HIRES_SIZE
    cfg["model"]["kwargs"].update({"first_kernel": 5, "first_stride": 2})
    cfg.update({"title": "Best model, regularised, at 128 x 128 (strided 5x5 first convolution)",
                "title_zh": "最佳模型加強正則化，128 x 128 輸入（第一層為步長 2 的 5x5 卷積）",
                "notes": _best_hires.__doc__.replace("\n    ", " ")})
    return cfg


# c50-best-hires still ends at 96 % training against 84-85 % validation
# accuracy: it memorises. Soft targets attack that directly: each training
# batch is blended with a shuffled copy of itself (CutMix pastes a patch of one
# photograph into another, MixUp averages the two; one of them per batch) and
# the label is blended in proportion, with 10 % label smoothing on top. One
# change against c50-best-hires (the three belong together as "train on soft
# targets"; each alone is untested here), same 60-epoch budget.
MIX = {"mixup": 0.2, "cutmix": 1.0}


def _best_mix() -> dict:
    """c50-best-hires trained on soft targets: every batch mixed with a
    shuffled copy of itself by CutMix (a patch of the partner pasted in,
    its area ~ Beta(a, a) with a ~ U(0, 1) per batch, Keras's factor 1) or
    MixUp (the two averaged, weight ~ Beta(0.2, 0.2)), one drawn per batch,
    the labels mixed in proportion (CutMix's by the pasted area), and label
    smoothing 0.1."""
    cfg = _best_hires()
    cfg["train"].update({"mix": copy.deepcopy(MIX), "label_smoothing": 0.1})
    cfg.update({"title": "Best model at 128 x 128 on soft targets: CutMix / MixUp, label smoothing",
                "title_zh": "最佳模型 128 x 128，軟標籤訓練：CutMix / MixUp、標籤平滑",
                "notes": _best_mix.__doc__.replace("\n    ", " ")})
    return cfg


# c50-best-mix's seed 0 ended at 83.3 % test accuracy (c50-best-hires: 83.67 ±
# 0.86) but no longer memorised (83 % on its mixed training batches, 83 % on
# validation): the budget ended before it had fitted its harder task. Soft
# targets are known to need longer schedules; this gives them 100 epochs
# (about an hour on the 2 cores), with the early-stopping patience scaled
# alongside; nothing else changes.


def _best_mix_long() -> dict:
    """c50-best-mix with a 100-epoch cosine budget (early stopping patience
    25): the soft targets left the 60-epoch run underfitted, not overfitted."""
    cfg = _best_mix()
    cfg["train"].update({"epochs": 100, "early_stopping": {"monitor": "val_loss", "patience": 25}})
    cfg.update({"title": "Best model on soft targets, 100 epochs",
                "title_zh": "最佳模型以軟標籤訓練，100 個 epoch",
                "notes": _best_mix_long.__doc__.replace("\n    ", " ")})
    return cfg


# c50-best-mix-long's seeds still end with mixed-batch training accuracy
# (86.6-88.6 %) barely above validation (86-87 %), and 60 -> 100 epochs was worth
# +2.4 points (83.43 -> 85.86, two seeds each; 85.77 with a third). Whether
# the budget still pays at 150 epochs (about 95 minutes a seed on the 2
# cores) is the next single change.


def _best_mix_xlong() -> dict:
    """c50-best-mix-long with a 150-epoch cosine budget (early stopping
    patience 40): the only change is the budget, as from 60 to 100 epochs."""
    cfg = _best_mix_long()
    cfg["train"].update({"epochs": 150, "early_stopping": {"monitor": "val_loss", "patience": 40}})
    cfg.update({"title": "Best model on soft targets, 150 epochs",
                "title_zh": "最佳模型以軟標籤訓練，150 個 epoch",
                "notes": _best_mix_xlong.__doc__.replace("\n    ", " ")})
    return cfg


_DEFS["c50-baseline-long"] = _baseline_long
_DEFS["c50-best-long"] = _best_long
_DEFS["c50-best-long-noaug"] = lambda: _best_long(augment=False)
# The noaug ablation, run last, beat every augmented network (seed 0: 88.25 %
# against c50-best-long's 81.26-81.60 %) and loses 16 points when its test
# images are mirrored: Caltech-101's objects mostly face one way, so a flip
# teaches an invariance the test never asks for and hides a cue it uses. This
# separates the flip from the rest of the mild augmentation.
_DEFS["c50-best-long-noflip"] = lambda: _best_long(flip=False)
_DEFS["c50-best-strong"] = _best_strong
_DEFS["c50-best-hires"] = _best_hires
_DEFS["c50-best-mix"] = _best_mix
_DEFS["c50-best-mix-long"] = _best_mix_long
_DEFS["c50-best-mix-xlong"] = _best_mix_xlong

EXPERIMENTS = {name: _make(name, fn) for name, fn in _DEFS.items()}


def variants_of(technique: str) -> list[str]:
    return [v[0] for v in TECHNIQUES[technique][3]]


def technique_of(experiment: str) -> str | None:
    for tech, (_, _, _, variants) in TECHNIQUES.items():
        if any(v[0] == experiment for v in variants):
            return tech
    return None


# One claim per variant: "the variant beats the baseline" with the seed's verdict
# beside it. The conclusions table turns each into up / unchanged / down.
CLAIMS = []
for _tech, (_en, _zh, _page, _variants) in TECHNIQUES.items():
    for _name, _change, _label, _label_zh in _variants:
        _sv = SEED_VERDICTS.get(SEED_VERDICT_OF.get(_name, _tech))
        CLAIMS.append({
            "id": _name, "page": _page, "technique": _tech,
            "claim": {"en": f"{_en}: {_label}", "zh": f"{_zh}：{_label_zh}"},
            "seed_verdict": {"en": _sv[0], "zh": _sv[1]} if _sv else None,
            "tests": [(_name, "c50-baseline", "same protocol, one change")]})


# The seed's own sizes, for the parameter comparison it made (its 128 x 128
# for the baseline family, 224 x 224 for the other architectures).
SEED_SIZE = {"c50_flower": 224, "c50_digits_advanced": 224, "c50_cats_dogs": 224}


def model_sizes(cfg: dict) -> list[int]:
    """The sizes a page shows a 50-class model at: its own and the seed's
    (core/model_tables.py)."""
    return [cfg["data"]["image_size"], SEED_SIZE.get(cfg["model"]["name"], 128)]
