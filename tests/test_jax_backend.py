"""Our models and the captcha reader also run on Keras's JAX backend (the
GPU machines we may borrow have JAX, not TensorFlow). Each check runs in a
subprocess, since a process picks its Keras backend once, at import."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from conftest import REPO

pytest.importorskip("jax", reason="needs jax (requirements.txt installs it)")

SCRIPT = r"""
import json, sys, tempfile
from pathlib import Path
import numpy as np
import keras
assert keras.backend.backend() == "jax", keras.backend.backend()
import experiments.caltech.models, experiments.captcha.models  # register their families
from core.registry import known_models
# four-head captcha output. Forward passes only: XLA takes about a minute on
# two CPU cores to compile one training step, too long for the suite; a quick
# training run on JAX is `KERAS_BACKEND=jax python -m experiments run
# captcha-net mnist-fair-cnn2 --quick` (README, GPU).
MILD = {"flip": "horizontal", "rotation": 0.05, "zoom": 0.1, "translation": 0.1}
CASES = {"mnist_vgg_bn": {}, "c50_vgg_gap": {"input_shape": (32, 32, 3), "augment": MILD},
         "captcha_net": {}}
out = {"models": {}}
tmp = Path(tempfile.mkdtemp())
rng = np.random.default_rng(0)
for name, kwargs in CASES.items():
    model = known_models()[name](**kwargs)
    x = rng.uniform(0, 1, (4, *model.input_shape[1:])).astype("float32")
    model.save(tmp / f"{name}.keras")
    again = keras.saving.load_model(tmp / f"{name}.keras", safe_mode=True)
    first, second = (keras.tree.flatten(m.predict_on_batch(x)) for m in (model, again))
    out["models"][name] = {"finite": bool(all(np.all(np.isfinite(a)) for a in first)),
                           "reloads_same": bool(all(np.allclose(a, b, atol=1e-5) for a, b in zip(first, second)))}

from experiments.captcha.recognizer import Recognizer
reading = Recognizer().read(sys.argv[1])
out["reading"] = {"text": reading.text, "probs": np.asarray(reading.probs).tolist()}
print("RESULT " + json.dumps(out))
"""


def test_models_run_save_and_load_on_jax_and_the_default_reader_agrees(tmp_path):
    from PIL import Image

    from experiments.captcha.recognizer import DEFAULT_MODEL, Recognizer
    from experiments.captcha.synth import make_captcha
    if not DEFAULT_MODEL.is_file():
        pytest.skip("the committed default captcha model is missing from this checkout")
    image, _, _ = make_captcha(np.random.default_rng(3))
    path = tmp_path / "captcha.png"
    Image.fromarray(image).save(path)

    env = {**os.environ, "KERAS_BACKEND": "jax", "PYTHONPATH": str(REPO), "JAX_PLATFORMS": "cpu"}
    r = subprocess.run([sys.executable, "-c", SCRIPT, str(path)], cwd=REPO, env=env,
                       capture_output=True, text=True, timeout=400)
    assert r.returncode == 0, r.stderr[-3000:]
    out = json.loads(next(line for line in r.stdout.splitlines() if line.startswith("RESULT "))[7:])
    assert out["models"], "no registered models"
    bad = {n: v for n, v in out["models"].items() if not all(v.values())}
    assert not bad, bad

    # The committed model reads the same characters, with the same
    # probabilities, under JAX as under TensorFlow.
    ours = Recognizer().read(path)
    assert out["reading"]["text"] == ours.text
    assert np.allclose(out["reading"]["probs"], np.asarray(ours.probs), atol=1e-4)
