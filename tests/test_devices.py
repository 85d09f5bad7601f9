"""One run over several devices (train.devices, core/devices.py): on a CPU
split into two devices, TensorFlow's MirroredStrategy and JAX's DataParallel
each train the same model as one device does, within float round-off."""
import json
import os
import subprocess
import sys

import pytest

from conftest import REPO

SCRIPT = """
import json, sys
sys.path.insert(0, {repo!r})
from core.train import train_run
from experiments import get_config
devices, root, data = int(sys.argv[1]), sys.argv[2], sys.argv[3]
cfg = {{**get_config("mnist-smoke", quick=True), "seed": 0}}
cfg["train"] = {{**cfg["train"], "epochs": 2, "batch_size": 32}}
if devices > 1:
    cfg["train"]["devices"] = devices
run, _ = train_run(cfg, root, data, verbose=0)
print(json.dumps({{"devices": run.summary["devices"], "test": run.summary["test"],
                  "val_loss": [h["val_loss"] for h in run.history]}}))
"""

SPLIT = {"tensorflow": {"CNNLAB_CPU_DEVICES": "2"},
         "jax": {"XLA_FLAGS": "--xla_force_host_platform_device_count=2"}}


def _train(backend, devices, root, data):
    env = {**os.environ, "KERAS_BACKEND": backend, **(SPLIT[backend] if devices > 1 else {})}
    out = subprocess.run([sys.executable, "-c", SCRIPT.format(repo=str(REPO)), str(devices), str(root), str(data)],
                         env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("backend", ["tensorflow", "jax"])
def test_two_devices_train_what_one_does(backend, tiny_mnist, tmp_path):
    one = _train(backend, 1, tmp_path / "one", tiny_mnist)
    two = _train(backend, 2, tmp_path / "two", tiny_mnist)
    assert one["devices"] is None and len(two["devices"]) == 2
    # Stated tolerance: the same model up to the order of float sums over two devices.
    assert two["val_loss"] == pytest.approx(one["val_loss"], abs=1e-5)
    assert two["test"]["loss"] == pytest.approx(one["test"]["loss"], abs=1e-5)


def test_more_devices_than_present_fail_the_run_saying_how_to_split(tiny_mnist, tmp_path):
    from core.records import Run
    from core.train import run_path, train_run
    from experiments import get_config
    cfg = {**get_config("mnist-smoke", quick=True), "seed": 0}
    cfg["train"] = {**cfg["train"], "devices": 64}
    with pytest.raises(Exception, match="train.devices 64: this machine shows"):
        train_run(cfg, tmp_path, tiny_mnist, verbose=0)
    run = Run(run_path(cfg, tmp_path))
    assert run.status == "failed" and "CNNLAB_CPU_DEVICES" in run.meta["error"]
