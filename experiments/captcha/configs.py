"""Seed 002, part II: THSR booking captchas, 4 characters from 19.

captcha-seed-*  the seed's two models with its protocol: Adam, batch 128,
                validation 20 %, EarlyStopping and ReduceLROnPlateau. The
                seed's prose says "learning rate = 0.5", but its logs show
                rates of 1e-3 x 0.8^k (4.096e-4, 1.6777e-4, 1.3422e-4), so we
                start at 1e-3 and decay by 0.8. Model 2's log stops at epoch
                64 restoring epoch 49 (patience 15); its four reductions by
                epoch 63 and a fifth at 64 fit a patience of 3.
captcha-xsrc-*  leave one source out: train on one captcha set, test on all
                of the other (how the reader does on captchas of another crawl).
captcha-fast    ours: `grey` 32x96 input, a small BatchNorm'd CNN with random
                zoom/shift, batch 64; see experiments/captcha/models.py.
All share one held-out test split of 3,000 real captchas (experiments/captcha/data.py).
"""
from __future__ import annotations

import copy

SEED_SOURCE = "seed 002 (HW2), part II"

SEED_TRAIN = {"optimizer": "adam", "learning_rate": 0.001, "batch_size": 128,
              "early_stopping": {"monitor": "val_loss", "patience": 15},
              "reduce_lr": {"monitor": "val_loss", "factor": 0.8, "patience": 3},
              "restore_best": True}


def _seed(model, preprocess, epochs, reference, title, notes):
    return {
        "title": title, "group": "captcha-seed", "notes": notes,
        # test_accuracy is the headline every run table shows: exact match
        "reference": {**reference, "test_accuracy": reference["exact_match"], "source": SEED_SOURCE},
        "data": {"dataset": "thsr-captcha", "preprocess": preprocess, "val_fraction": 0.2},
        "model": {"name": model, "kwargs": {}},
        "train": {**copy.deepcopy(SEED_TRAIN), "epochs": epochs},
    }


def _continuing(config, parent):
    config["train"]["continue_from"] = parent
    return config


def _ours(model, height, width, learning_rate, title, notes, **model_kwargs):
    """Our models: greyscale at height x width, batch 64, early stopping and
    learning-rate halving on validation loss, best epoch restored."""
    return {
        "title": title, "group": "captcha-ours", "notes": notes,
        "data": {"dataset": "thsr-captcha", "preprocess": "grey",
                 "preprocess_options": {"height": height, "width": width}, "val_fraction": 0.2},
        "model": {"name": model, "kwargs": model_kwargs},
        "train": {"epochs": 40, "batch_size": 64, "optimizer": "adam", "learning_rate": learning_rate,
                  "early_stopping": {"monitor": "val_loss", "patience": 8},
                  "reduce_lr": {"monitor": "val_loss", "factor": 0.5, "patience": 3, "min_lr": 1e-5},
                  "restore_best": True},
    }


def _relabelled(config, name):
    from experiments.captcha.relabel import spec
    config["data"]["relabel"] = spec(name)
    return config


# Distillation (issue 32): the student is trained on the labels and, mixed in
# with weight alpha, its teachers' averaged readings softened by T. T = 4 and
# alpha = 0.5 are common first choices (Hinton et al. used T from 2 to 20),
# taken once, not tuned: three seeds each way can only tell a change of about
# 0.1 point, the size of the ensembles' own gain over one network.
DISTILL = {"temperature": 4.0, "alpha": 0.5}


def _distilled(config, teachers, title, notes):
    config = _named(config, title, notes)
    config["data"]["distill"] = {"teachers": teachers, **DISTILL}
    # Selected as the twin is, on the labels' validation loss: val_loss mixes
    # in the teachers, and on it a first try stopped at epoch 17 and kept
    # epoch 9 (validation exact match 99.68 % where epoch 16 read 99.95 %).
    for key in ("early_stopping", "reduce_lr"):
        config["train"][key].update(monitor="val_label_loss", mode="min")
    return config


_DEFS = {
    "captcha-seed-m1-50ep": lambda: _seed(
        "captcha_seed1", "nopre", 50,
        {"exact_match": 0.904, "char_accuracy": 0.936, "ms_per_image": 162.9},
        "Captcha model 1 (nopre), seed protocol, 50 epochs",
        "RGB 130x50, resize and scale only."),
    # Same seed and protocol as the 50-epoch run, whose first 50 epochs are
    # therefore this run's: it goes on from that run's last epoch (~4.5 CPU
    # hours saved on 2 cores), or trains from scratch where none was kept.
    "captcha-seed-m1-100ep": lambda: _continuing(_seed(
        "captcha_seed1", "nopre", 100,
        {"exact_match": 0.94533, "char_accuracy": 0.96575, "ms_per_image": 175.4},
        "Captcha model 1 (nopre), seed protocol, 100 epochs",
        "The seed's rerun with a larger epoch budget (it stopped early at 87)."),
        "captcha-seed-m1-50ep"),
    "captcha-seed-m2": lambda: _seed(
        "captcha_seed2", "dn2", 100,
        {"exact_match": 0.96533, "char_accuracy": 0.98975, "ms_per_image": 323.1},
        "Captcha model 2 (dn2), seed protocol",
        "Greyscale, denoised, arc erased; three more convolutions, a second dropout."),
    "captcha-fast": lambda: _ours(
        "captcha_fast", 32, 96, 0.002,
        "Captcha, ours: small fast CNN on grey 32x96 with zoom/shift augmentation",
        "Same split as the seed's models; model selection on validation only."),
    "captcha-net": lambda: _ours(
        "captcha_net", 40, 112, 0.001,
        "Captcha, ours v2: grey 40x112, hidden dense layer, milder zoom/shift",
        "After captcha-fast under-fitted (~95 % validation exact match)."),
    # captcha-net lost 1.6-2.3 points of exact match on test copies padded by
    # 6 px (runs/captcha-net/.../robustness.json): after the resize a 6 px pad
    # shrinks the glyphs by ~21 % in height and ~10 % in width, far outside
    # the +-8 % zoom it trained with, and a white pad is a fill it never saw.
    # Same network and training; only the augmentation is wider.
    "captcha-net-frame": lambda: _ours(
        "captcha_net", 40, 112, 0.001,
        "Captcha, ours v3: captcha-net trained with wider re-framing (crop/pad, white or edge fill)",
        "Only change from captcha-net: RandomFrame instead of zoom/shift, for crop/pad robustness.",
        frame={"height": [-0.15, 0.3], "width": [-0.1, 0.15], "shift": 0.05, "white": 0.5}),
    # With margins trimmed by the reader, captcha-net-frame still read only
    # 69 % (model alone) / 96 % (reader) of test copies shifted 10 px (~8 % of
    # the width) with the far side cropped, and 98.8-99.0 % of crops 3-8 px:
    # its flattened features tie each head to a position, and its training
    # shifts stopped at 5 %, its width crops at 10 %. Wider shifts and crops.
    "captcha-net-shift": lambda: _ours(
        "captcha_net", 40, 112, 0.001,
        "Captcha, ours v4: captcha-net-frame with shifts up to 12 % and width crops up to 15 %",
        "Only change from captcha-net-frame: RandomFrame's shift 0.05 -> 0.12, width crop 0.1 -> 0.15.",
        frame={"height": [-0.15, 0.3], "width": [-0.15, 0.15], "shift": 0.12, "white": 0.5}),
    # ~3.8 % of the training and validation labels are wrong (493 of 13,000
    # captchas read otherwise by captcha-net-shift's three seeds; of the 101
    # of those a person had read, 88 showed the ensemble's reading, 4 a third
    # one, 4 the label and 5 were ambiguous), and early stopping
    # on the noisy validation loss kept worse epochs: seed 2 kept epoch 23
    # (98.6 % audited validation exact match) where its last read 99.2 %.
    # Only change: train and select on the relabel list those three seeds
    # propose (experiments/captcha/relabel.py). The test labels are untouched.
    "captcha-net-clean": lambda: _relabelled(_ours(
        "captcha_net", 40, 112, 0.001,
        "Captcha, ours v5: captcha-net-shift trained and selected on cleaned labels",
        "Only change from captcha-net-shift: training and validation labels from relabel-shift3 "
        "(129 relabelled by the ensemble, 94 by eye, 270 dropped); test labels as given.",
        frame={"height": [-0.15, 0.3], "width": [-0.15, 0.15], "shift": 0.12, "white": 0.5}), "shift3"),
}


def _cross_source(test_source, title, notes):
    """captcha-net-shift's network and training, its test set a whole source
    it never saw: how it reads captchas from another crawl. No relabel list:
    ours was made by models that had trained on both sources."""
    config = _DEFS["captcha-net-shift"]()
    config.update(title=title, notes=notes, group="captcha-xsrc")
    config["data"]["test_source"] = test_source
    return config


def _named(config, title, notes):
    config.update(title=title, notes=notes)
    return config


def _synthetic(config, n):
    config["data"]["synthetic"] = {"n": n}
    return config


def _undo_arc(config):
    config["data"]["preprocess_options"]["undo_arc"] = True
    return config


_DEFS.update({
    "captcha-xsrc-to-hand": lambda: _cross_source(
        "handlabeled-5000", "Captcha, other source: trained on verified-11000, tested on all of handlabeled-5000",
        "Leave one source out (experiments/captcha/data.py:source_split); recipe of captcha-net-shift."),
    # The arc inverts what lies under it (measured on 3,000 captchas: under
    # the fitted band 87.5 % of stroke pixels are light, 85.3 % of background
    # pixels dark); undoing the inversion gives back the strokes a 5 or an F
    # lost to it. Only change from captcha-xsrc-to-hand: undo_arc.
    "captcha-xsrc-to-hand-undo": lambda: _undo_arc(_cross_source(
        "handlabeled-5000", "Captcha, other source, arc inversion undone: trained on verified-11000, "
        "tested on all of handlabeled-5000",
        "Only change from captcha-xsrc-to-hand: preprocessing undoes the arc's inversion (undo_arc).")),
    "captcha-xsrc-to-verified": lambda: _cross_source(
        "verified-11000", "Captcha, other source: trained on handlabeled-5000, tested on all of verified-11000",
        "Leave one source out, the other way: 5,000 captchas to train on, 11,000 to test."),
    # On our own split: does undoing the arc help the default recipe too? The
    # one-change ablation of captcha-net-clean (its relabel list included),
    # before any default model adopts undo_arc.
    "captcha-net-undo": lambda: _undo_arc(_named(_DEFS["captcha-net-clean"](),
        "Captcha, ours v6: captcha-net-clean with the arc's inversion undone (undo_arc)",
        "Only change from captcha-net-clean: preprocessing undoes the arc's inversion (undo_arc).")),
    # Other crawls draw the same captchas at other sizes (101-158 x 44-48 px,
    # one public crawl at 140 x 48). Only change from captcha-xsrc-to-hand-undo:
    # 5,000 generated captchas whose arc inverts what it crosses, as the real
    # one does, at those sizes, added to training (data.synthetic).
    "captcha-xsrc-to-hand-undo-synth": lambda: _synthetic(_undo_arc(_cross_source(
        "handlabeled-5000", "Captcha, other source, arc undone, with generated captchas: trained on "
        "verified-11000 and 5,000 synthetic captchas, tested on all of handlabeled-5000",
        "Only change from captcha-xsrc-to-hand-undo: 5,000 generated captchas (inverting arc, crawl sizes) "
        "added to training.")), 5000),
    # verified-11000's labels are noisy (of the 575 captchas of it that
    # captcha-xsrc-to-verified-undo misread, a person read 361 as the model
    # did), and the forward direction learns from them. Cleaned the way
    # captcha-net-clean was, by an ensemble that never saw the test source:
    # the three seeds of captcha-xsrc-to-hand-undo read their own training and
    # validation captchas (relabel-xsrc-hand3: 259 relabelled, 271 dropped of
    # 11,000; no by-eye verdicts, which models trained on both sources chose).
    # Only change from captcha-xsrc-to-hand-undo: that list.
    "captcha-xsrc-to-hand-clean": lambda: _relabelled(_named(_DEFS["captcha-xsrc-to-hand-undo"](),
        "Captcha, other source, arc undone, cleaned labels: trained on verified-11000 relabelled by "
        "its own ensemble, tested on all of handlabeled-5000",
        "Only change from captcha-xsrc-to-hand-undo: training and validation labels from relabel-xsrc-hand3 "
        "(proposed by captcha-xsrc-to-hand-undo's three seeds: 259 relabelled, 271 dropped); "
        "test labels as given."), "xsrc-hand3"),
    # The other way with the recipe that read handlabeled-5000 best.
    "captcha-xsrc-to-verified-undo": lambda: _undo_arc(_cross_source(
        "verified-11000", "Captcha, other source, arc inversion undone: trained on handlabeled-5000, "
        "tested on all of verified-11000",
        "Only change from captcha-xsrc-to-verified: preprocessing undoes the arc's inversion (undo_arc).")),
    # The cleaning ablation the other way round: does relabelling the training
    # source by its own ensemble help when it is the hand-labelled set?
    # relabel-xsrc-verified3: captcha-xsrc-to-verified-undo's three seeds read
    # their own training and validation captchas (29 relabelled, 70 dropped of
    # 5,000). Only change from captcha-xsrc-to-verified-undo: that list.
    "captcha-xsrc-to-verified-clean": lambda: _relabelled(_named(_DEFS["captcha-xsrc-to-verified-undo"](),
        "Captcha, other source, arc undone, cleaned labels: trained on handlabeled-5000 relabelled by "
        "its own ensemble, tested on all of verified-11000",
        "Only change from captcha-xsrc-to-verified-undo: training and validation labels from "
        "relabel-xsrc-verified3 (proposed by captcha-xsrc-to-verified-undo's three seeds: 29 relabelled, "
        "70 dropped); test labels as given."), "xsrc-verified3"),
    # The candidate default of issue 32: trained on both sources (the 3,000
    # test captchas kept out) with the cross-source recipe (arc undone,
    # captcha-net-shift's framing), its labels cleaned by models that never
    # saw the image they relabel: handlabeled-5000 by captcha-xsrc-to-hand-clean's
    # three seeds (trained on verified-11000 only), verified-11000 by
    # captcha-xsrc-to-verified-undo's (trained on handlabeled-5000 only)
    # (relabel-both-heldout: 538 rows; of the relabels a person had read blind,
    # 91 of 101 and 463 of 479 showed the proposed reading). Only change from
    # captcha-net-undo: that list instead of relabel-shift3, which models that
    # had trained on the images proposed.
    # Does one network learn the ensemble's gain (99.90 against 99.89 % towards
    # handlabeled-5000, 99.92 against 99.87 % towards verified-11000, audited)?
    # Each student: the recipe's network trained on the same source and labels,
    # with the three seeds of that direction as teachers. Only change from
    # captcha-xsrc-to-*-clean: data.distill.
    "captcha-xsrc-to-hand-distil": lambda: _distilled(_DEFS["captcha-xsrc-to-hand-clean"](),
        "captcha-xsrc-to-hand-clean",
        "Captcha, other source, distilled: captcha-xsrc-to-hand-clean taught by its own three seeds",
        "Only change from captcha-xsrc-to-hand-clean: soft targets from its three seeds' averaged readings "
        "(T = 4, alpha = 0.5)."),
    "captcha-xsrc-to-verified-distil": lambda: _distilled(_DEFS["captcha-xsrc-to-verified-clean"](),
        "captcha-xsrc-to-verified-clean",
        "Captcha, other source, distilled: captcha-xsrc-to-verified-clean taught by its own three seeds",
        "Only change from captcha-xsrc-to-verified-clean: soft targets from its three seeds' averaged "
        "readings (T = 4, alpha = 0.5)."),
    "captcha-net-xsrc": lambda: _relabelled(_undo_arc(_named(_DEFS["captcha-net-shift"](),
        "Captcha, ours v7: captcha-net-undo with labels cleaned by models that never saw them",
        "Only change from captcha-net-undo: training and validation labels from relabel-both-heldout "
        "(each source relabelled by the three seeds trained on the other source only); test labels as given.")),
        "both-heldout"),
})

# The reader shipped (recognizer.DEFAULT_RUN, a captcha-net-xsrc run: both
# sources, the arc undone, labels cleaned) measured on a crawl it never saw:
# its recipe's two leave-one-source-out twins, the same network, framing,
# preprocessing and training on one source, its labels cleaned by that
# source's own ensemble (on one source, no model can have left the image
# out), tested on all of the other. The Overview's captcha card leads with
# their weaker direction.
SHIPPED_CROSS_SOURCE = ("captcha-xsrc-to-hand-clean", "captcha-xsrc-to-verified-clean")

TITLES_ZH = {
    "captcha-seed-m1-50ep": "驗證碼 model 1（nopre），原報告流程，50 個 epoch",
    "captcha-seed-m1-100ep": "驗證碼 model 1（nopre），原報告流程，100 個 epoch",
    "captcha-seed-m2": "驗證碼 model 2（dn2），原報告流程",
    "captcha-fast": "驗證碼（本專案）：灰階 32x96 小型快速 CNN，縮放與平移增強",
    "captcha-net": "驗證碼（本專案第二版）：灰階 40x112、隱藏全連接層、較溫和的縮放與平移",
    "captcha-net-frame": "驗證碼（本專案第三版）：captcha-net 加上更寬的重新取景增強（裁切／補邊，白色或邊緣色）",
    "captcha-net-shift": "驗證碼（本專案第四版）：captcha-net-frame 加大平移（至 12 %）與寬度裁切（至 15 %）",
    "captcha-net-clean": "驗證碼（本專案第五版）：captcha-net-shift 改用清理過的訓練與驗證標籤",
    "captcha-xsrc-to-hand": "驗證碼，其他來源：以 verified-11000 訓練，在整個 handlabeled-5000 上測試",
    "captcha-xsrc-to-verified": "驗證碼，其他來源：以 handlabeled-5000 訓練，在整個 verified-11000 上測試",
    "captcha-net-undo": "驗證碼（本專案第六版）：captcha-net-clean 加上還原弧線反相（undo_arc）",
    "captcha-xsrc-to-hand-undo-synth": "驗證碼，其他來源，還原弧線反相，加入生成的驗證碼：以 verified-11000 與 5,000 張合成驗證碼訓練，在整個 handlabeled-5000 上測試",
    "captcha-xsrc-to-verified-undo": "驗證碼，其他來源，還原弧線反相：以 handlabeled-5000 訓練，在整個 verified-11000 上測試",
    "captcha-xsrc-to-hand-clean": "驗證碼，其他來源，還原弧線反相，清理過的標籤：以自身集成模型重新標註的 verified-11000 訓練，在整個 handlabeled-5000 上測試",
    "captcha-xsrc-to-hand-undo": "驗證碼，其他來源，還原弧線反相：以 verified-11000 訓練，在整個 handlabeled-5000 上測試",
    "captcha-net-xsrc": "驗證碼（本專案第七版）：captcha-net-undo 改用由從未見過該影像的模型清理的標籤",
    "captcha-xsrc-to-verified-clean": "驗證碼，其他來源，還原弧線反相，清理過的標籤：以自身集成模型重新標註的 handlabeled-5000 訓練，在整個 verified-11000 上測試",
    "captcha-xsrc-to-hand-distil": "驗證碼，其他來源，知識蒸餾：由 captcha-xsrc-to-hand-clean 自己的三個 seed 教導",
    "captcha-xsrc-to-verified-distil": "驗證碼，其他來源，知識蒸餾：由 captcha-xsrc-to-verified-clean 自己的三個 seed 教導",
}


def _quick(cfg: dict) -> dict:
    """A few hundred captchas and two epochs: the same code path in seconds."""
    cfg = copy.deepcopy(cfg)
    cfg["data"]["train_limit"] = 256
    cfg["data"]["test_limit"] = 64
    cfg["train"]["epochs"] = 2
    cfg["train"]["batch_size"] = 32
    cfg["title"] += " (quick)"
    return cfg


def _make(name, fn):
    def get(quick=False):
        cfg = fn()
        cfg["experiment"] = name
        cfg["title_zh"] = TITLES_ZH[name]
        return _quick(cfg) if quick else cfg
    return get


EXPERIMENTS = {name: _make(name, fn) for name, fn in _DEFS.items()}
CLAIMS: list = []
