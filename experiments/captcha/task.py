"""What train.py needs to know about the 4-head captcha models.

Targets go to the heads by name; each head gets its own sparse cross-entropy
and accuracy; a callback adds the figures users actually care about (exact
match of all four characters, mean character accuracy) to every epoch's row.
Keras 3 accepts `class_weight` only for single-output models, so per-head
weighting, when a config asks for it, is passed as one `sample_weight` array
per output.
"""
from __future__ import annotations

import csv
import time
from pathlib import Path

import keras
import numpy as np

from experiments.captcha.labels import ALPHABET, N_CHARS, decode
from core.task import Task

HEADS = [f"fc13_W{i + 1}" for i in range(N_CHARS)]


def targets(y: np.ndarray, soft: np.ndarray | None = None) -> dict:
    """Each head's targets: its label index, or with `soft` ((N, 4, 19)
    teacher probabilities, already tempered) the index followed by them, as
    DistillCE reads them."""
    if soft is None:
        return {h: y[:, i] for i, h in enumerate(HEADS)}
    return {h: np.concatenate([y[:, i:i + 1].astype("float32"), soft[:, i].astype("float32")], axis=1)
            for i, h in enumerate(HEADS)}


def compile_model(model, optimizer, label_smoothing: float = 0.0, distill: dict | None = None):
    if distill:
        t, a = float(distill.get("temperature", 1.0)), float(distill.get("alpha", 0.5))
        loss = {h: DistillCE(t, a, name=f"{h}_loss") for h in HEADS}
        # the label is the targets' first column: accuracy on it, under the usual name
        metrics = {h: [keras.metrics.MeanMetricWrapper(label_accuracy, name="accuracy")] for h in HEADS}
        model.compile(optimizer=optimizer, loss=loss, metrics=metrics)
        return
    if label_smoothing:
        # Label smoothing needs one-hot targets; keep sparse labels and let the
        # loss expand them (CategoricalCrossentropy on sparse ints would fail).
        loss = {h: SparseSmoothedCE(label_smoothing, name=f"{h}_loss") for h in HEADS}
    else:
        loss = {h: "sparse_categorical_crossentropy" for h in HEADS}
    model.compile(optimizer=optimizer, loss=loss, metrics={h: ["accuracy"] for h in HEADS})


@keras.saving.register_keras_serializable(package="cnnlab")
class SparseSmoothedCE(keras.losses.Loss):
    def __init__(self, smoothing=0.1, name="sparse_smoothed_ce", **kwargs):
        super().__init__(name=name, **kwargs)
        self.smoothing = smoothing

    def call(self, y_true, y_pred):
        classes = keras.ops.shape(y_pred)[-1]
        onehot = keras.ops.one_hot(keras.ops.cast(keras.ops.reshape(y_true, (-1,)), "int32"), classes)
        return keras.losses.categorical_crossentropy(onehot, y_pred,
                                                     label_smoothing=self.smoothing)

    def get_config(self):
        return {**super().get_config(), "smoothing": self.smoothing}


@keras.saving.register_keras_serializable(package="cnnlab")
def label_accuracy(y_true, y_pred):
    """Accuracy on the label in a DistillCE target's first column."""
    return keras.metrics.sparse_categorical_accuracy(y_true[:, :1], y_pred)


@keras.saving.register_keras_serializable(package="cnnlab")
class DistillCE(keras.losses.Loss):
    """Knowledge distillation (Hinton et al., 2015) for a softmax head: y_true
    is [label index, teacher probabilities tempered by T (19)]. The loss is
    alpha * T^2 * CE(teacher_T, student_T) + (1 - alpha) * CE(label, student),
    student_T = softmax(log(student) / T): the head gives probabilities, and
    log-probabilities are logits up to a constant, which softmax ignores."""

    def __init__(self, temperature=1.0, alpha=0.5, name="distill_ce", **kwargs):
        super().__init__(name=name, **kwargs)
        self.temperature, self.alpha = float(temperature), float(alpha)

    def call(self, y_true, y_pred):
        ops = keras.ops
        label = ops.cast(y_true[:, 0], "int32")
        teacher = y_true[:, 1:]
        log_q = ops.log(ops.clip(y_pred, 1e-7, 1.0))
        hard = keras.losses.sparse_categorical_crossentropy(label, y_pred)
        log_q_t = ops.log_softmax(log_q / self.temperature, axis=-1)
        soft = -ops.sum(teacher * log_q_t, axis=-1) * self.temperature ** 2
        return self.alpha * soft + (1.0 - self.alpha) * hard

    def get_config(self):
        return {**super().get_config(), "temperature": self.temperature, "alpha": self.alpha}


def tempered(probs: np.ndarray, temperature: float) -> np.ndarray:
    """Probabilities softened by T: p^(1/T), renormalised (softmax of logits / T)."""
    logp = np.log(np.clip(probs.astype("float64"), 1e-12, 1.0)) / temperature
    logp -= logp.max(-1, keepdims=True)
    e = np.exp(logp)
    return (e / e.sum(-1, keepdims=True)).astype("float32")


def teacher_probs(spec: dict, data_cfg: dict, arrays: list, root=None) -> list:
    """The averaged probabilities ((N, 4, 19) each) of the finished runs of
    experiment spec["teachers"] on each of `arrays` (model inputs). Teachers
    must read their input as the student does; none, or another
    preprocessing, is an error that says so before any training."""
    from core.results import declared_runs, with_model_file
    from experiments.captcha.recognizer import open_reader

    name = spec["teachers"]
    try:
        runs = declared_runs(name, root, keep=with_model_file)
    except (KeyError, ValueError) as e:
        raise ValueError(f"data.distill.teachers: {name!r} is not an experiment with runs ({e})") from e
    if not runs:
        raise ValueError(f"data.distill.teachers: {name!r} has no finished run with a model file")
    want = (data_cfg["preprocess"], data_cfg.get("preprocess_options", {}))
    out = [np.zeros((len(x), N_CHARS, len(ALPHABET)), "float64") for x in arrays]
    for run in runs:
        got = (run.config["data"]["preprocess"], run.config["data"].get("preprocess_options", {}))
        if got != want:
            raise ValueError(f"data.distill.teachers: {run.ref} reads {got}, this run {want}")
        reader = open_reader(run.path / "model.keras")
        for acc, x in zip(out, arrays):
            for i in range(0, len(x), 512):
                acc[i:i + 512] += reader._probs(x[i:i + 512])
    return [acc / len(runs) for acc in out]


def predict_probs(model, x: np.ndarray, batch_size: int = 512) -> np.ndarray:
    """(N, 4, 19) probabilities."""
    probs = model.predict(x, batch_size=batch_size, verbose=0)
    if isinstance(probs, dict):
        probs = [probs[h] for h in HEADS]
    return np.stack([np.asarray(p) for p in probs], axis=1)


def predict_indices(model, x: np.ndarray, batch_size: int = 512):
    """(N, 4) predicted indices and (N, 4) confidences."""
    probs = predict_probs(model, x, batch_size)
    return probs.argmax(-1), probs.max(-1)


def label_loss(probs: np.ndarray, y: np.ndarray) -> float:
    """The heads' sparse cross-entropies on the labels, summed: what val_loss
    is for a model trained on the labels alone (Keras clips at 1e-7 too)."""
    picked = np.take_along_axis(probs, y[..., None].astype(int), -1)[..., 0]
    return float(-np.log(np.clip(picked, 1e-7, 1.0)).mean(0).sum())


def scores(pred: np.ndarray, y: np.ndarray) -> dict:
    right = pred == y
    out = {"exact_match": float(right.all(1).mean()), "char_accuracy": float(right.mean())}
    for i, h in enumerate(HEADS):
        out[f"{h}_accuracy"] = float(right[:, i].mean())
    return out


class WordAccuracy(keras.callbacks.Callback):
    """Adds val_exact_match and character accuracies to each epoch's logs.

    `accuracy` / `val_accuracy` are the mean character accuracy over the four
    heads (training: the heads' running accuracies), so the generic charts and
    the overfitting view (train minus validation) work for captchas as for
    MNIST; `val_exact_match` is all four characters right. With `y_audited`
    (the validation labels after the by-eye audit) it also logs
    `val_exact_match_audited`, for the record only: nothing selects on it.
    `val_label_loss` is the validation loss on the labels alone, which a
    distilled run selects on (its val_loss mixes in its teachers).
    Listed before the history writer, so they land in history.csv."""

    def __init__(self, x_val, y_val, y_audited=None):
        super().__init__()
        self.x_val, self.y_val, self.y_audited = x_val, y_val, y_audited

    def on_epoch_end(self, epoch, logs=None):
        if logs is None:
            return
        probs = predict_probs(self.model, self.x_val)
        pred = probs.argmax(-1)
        s = scores(pred, self.y_val)
        logs["val_label_loss"] = label_loss(probs, self.y_val)
        logs["val_exact_match"] = s["exact_match"]
        if self.y_audited is not None:
            logs["val_exact_match_audited"] = float((pred == self.y_audited).all(1).mean())
        logs["val_accuracy"] = s["char_accuracy"]
        heads = [logs.get(f"{h}_accuracy") for h in HEADS]
        if all(v is not None for v in heads):
            logs["accuracy"] = float(np.mean(heads))


def audited_labels(items, y: np.ndarray):
    """`y` with the committed audit's readings applied (experiments/captcha/audit.py),
    or None when the audit has read none of these images."""
    from experiments.captcha.labels import encode
    from experiments.captcha.audit import load_audit

    known = load_audit()
    fixed = [known.get(it.ref) for it in items or []]
    if not any(fixed):
        return None
    out = np.array(y, copy=True)
    for i, text in enumerate(fixed):
        if text:
            out[i] = encode(text)
    return out


def time_single_images(model, items, data_cfg: dict, n: int = 100) -> dict:
    """What one upload costs: read the file, preprocess, predict, one image at
    a time (median and mean over up to n test images, after one warm-up)."""
    from experiments.captcha.preprocess import get_preprocessor, load_image

    fn = get_preprocessor(data_cfg["preprocess"], **data_cfg.get("preprocess_options", {}))
    items = [it for it in items[:n + 1] if it is not None]
    times = []
    for it in items:
        t = time.perf_counter()
        model.predict_on_batch(fn(load_image(it.path))[None])
        times.append(1000 * (time.perf_counter() - t))
    times = times[1:]  # the first call builds the graph
    if not times:
        return {}
    return {"ms_per_image_single_median": float(np.median(times)),
            "ms_per_image_single_mean": float(np.mean(times))}


def evaluate(model, data: dict, path: Path, data_cfg: dict | None = None) -> dict:
    """Test figures plus a predictions.csv (one row per test image) that the
    pages read for the confusion matrix and the failure gallery."""
    t = time.perf_counter()
    pred, conf = predict_indices(model, data["x_test"])
    seconds = time.perf_counter() - t
    y = data["y_test"]
    out = scores(pred, y)
    out["accuracy"] = out["exact_match"]  # the headline figure of every run table
    out["model_ms_per_image_batched"] = 1000 * seconds / max(1, len(y))
    items = data.get("test_items") or [None] * len(y)
    if data_cfg and items[0] is not None:
        out.update(time_single_images(model, items, data_cfg))
    write_predictions(path / "predictions.csv", items, y, pred, conf)
    # The light reader's file (model.onnx, checked against this model on the
    # whole test split: onnx.json); a failure is recorded, never the run's.
    from experiments.captcha.onnx_export import export_run
    export_run(model, data["x_test"], path, data_cfg)
    return out


def write_predictions(file: Path, items, y, pred, conf) -> None:
    """One row per image: its ref, label, reading, and the confidence of each character."""
    tmp = file.with_name(f".{file.name}.tmp")
    with open(tmp, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["image", "label", "prediction", "confidence_min", *[f"conf{i + 1}" for i in range(N_CHARS)]])
        for it, yt, pt, c in zip(items, y, pred, conf):
            w.writerow([it.ref if it else "", decode(yt), decode(pt), f"{c.min():.4f}",
                        *[f"{v:.4f}" for v in c]])
    tmp.replace(file)


def balanced_sample_weight(y: np.ndarray) -> dict:
    """Per-output sample weights that balance each head's classes
    (weight = n / (classes x count)), the multi-output stand-in for
    class_weight='balanced'."""
    from experiments.captcha.labels import ALPHABET

    out = {}
    for i, h in enumerate(HEADS):
        counts = np.bincount(y[:, i], minlength=len(ALPHABET)).astype("float64")
        w = len(y) / (len(ALPHABET) * np.maximum(counts, 1))
        out[h] = w[y[:, i]].astype("float32")
    return out


class CaptchaTask(Task):
    """The captcha study as core/task.py's Task: four heads, targets by name,
    word accuracy each epoch, per-head sample weights when asked."""

    def load(self, config, data_dir=None):
        from experiments.captcha.data import load_splits
        data = load_splits(config["data"], config["seed"], data_dir)
        spec = config["data"].get("distill")
        if spec:  # the teachers read the training and validation inputs once, before training
            t = float(spec.get("temperature", 1.0))
            soft = teacher_probs(spec, config["data"], [data["x_train"], data["x_val"]])
            data["soft_train"], data["soft_val"] = (tempered(s, t) for s in soft)
        return data

    def compile(self, model, optimizer, config, data):
        compile_model(model, optimizer, config["train"].get("label_smoothing", 0.0), config["data"].get("distill"))

    def callbacks(self, config, data):
        return [WordAccuracy(data["x_val"], data["y_val"], audited_labels(data.get("val_items"), data["y_val"]))]

    def fit_inputs(self, config, data):
        tcfg = config["train"]
        kwargs = {"batch_size": tcfg["batch_size"], "shuffle": True,
                  "validation_data": (data["x_val"], targets(data["y_val"], data.get("soft_val")))}
        if tcfg.get("balance_heads"):
            kwargs["sample_weight"] = balanced_sample_weight(data["y_train"])
        return (data["x_train"], targets(data["y_train"], data.get("soft_train"))), kwargs

    def evaluate(self, model, data, path, config):
        return evaluate(model, data, path, config["data"])


def predict_split(run_dir: Path, split: str, data_dir=None) -> Path:
    """The run's model reads its own training or validation split (as its
    config defines them, relabel list included); rows as in predictions.csv,
    in predictions-<split>.csv."""
    import json

    from experiments.captcha import data as cd
    from experiments.captcha.recognizer import Recognizer
    cfg = json.loads((Path(run_dir) / "config.json").read_text())["data"]
    # relabel list included: the labels this run learnt from and was selected on
    items = dict(zip(("train", "val", "test"), cd.config_split(cfg, data_dir)))[split]
    x = cd.preprocess_items(items, cfg["preprocess"], cfg.get("preprocess_options", {})).astype("float32") / 255
    rec = Recognizer(Path(run_dir) / "model.keras")
    pred, conf = predict_indices(rec.model, x)
    out = Path(run_dir) / f"predictions-{split}.csv"
    write_predictions(out, items, cd.labels_array(items), pred, conf)
    return out
