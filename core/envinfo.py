"""What produced a run: code version, libraries, hardware."""
from __future__ import annotations

import os
import platform
import socket
import subprocess
from importlib import metadata
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def git_state(repo: Path = REPO) -> dict:
    def git(*args):
        return subprocess.run(["git", *args], cwd=repo, capture_output=True,
                              text=True, timeout=10)
    try:
        head = git("rev-parse", "HEAD")
        if head.returncode != 0:
            return {"commit": None, "dirty": None}
        # runs/ is output, not code: a run written there must not make the
        # next run look "dirty".
        dirty = git("status", "--porcelain", "--", ".", ":(exclude)runs")
        return {"commit": head.stdout.strip(), "dirty": bool(dirty.stdout.strip())}
    except (OSError, subprocess.SubprocessError):
        return {"commit": None, "dirty": None}


def versions() -> dict:
    out = {"python": platform.python_version()}
    for pkg in ("keras", "tensorflow", "tensorflow-cpu", "jax", "numpy"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            pass
    return out


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def device() -> dict:
    """The accelerator the backend will use, or the CPU."""
    import keras

    backend = keras.config.backend()
    info = {"backend": backend, "cpu_count": os.cpu_count(),
            "cpu": cpu_name(), "gpus": []}
    try:
        if backend == "tensorflow":
            import tensorflow as tf
            gpus = tf.config.list_physical_devices("GPU")
            for g in gpus:
                details = tf.config.experimental.get_device_details(g)
                info["gpus"].append(details.get("device_name", g.name))
        elif backend == "jax":
            import jax
            info["gpus"] = [str(d) for d in jax.devices() if d.platform == "gpu"]
    except Exception as e:  # device probing must never stop a run
        info["probe_error"] = str(e)
    info["device"] = info["gpus"][0] if info["gpus"] else f"CPU ({info['cpu_count']} cores)"
    return info


def host() -> str:
    return socket.gethostname()
