"""One run over several devices: `train.devices` (an integer, or "all") spreads
each batch over that many devices of the backend, with the backend's own
data parallelism: tf.distribute.MirroredStrategy on TensorFlow,
keras.distribution.DataParallel on JAX. The batch size stays the global one
(each of N devices gets batch_size / N examples) and the gradients are summed
over devices, so a run on N devices trains the same model as on one, up to
the order of floating-point sums.

GPUs are used when present, else CPU devices. A CPU is one device unless it
is split: CNNLAB_CPU_DEVICES=N makes TensorFlow show N logical CPUs (before it
starts), and for JAX XLA_FLAGS=--xla_force_host_platform_device_count=N does
the same; that is how the tests try two devices on a machine without GPUs.
"""
from __future__ import annotations

import contextlib
import os

CPU_DEVICES_ENV = "CNNLAB_CPU_DEVICES"


class DeviceError(RuntimeError):
    """More devices asked for than this machine has."""


def _split_tf_cpu(tf) -> None:
    n = int(os.environ.get(CPU_DEVICES_ENV) or 0)
    if n < 2:
        return
    cpu = tf.config.list_physical_devices("CPU")[0]
    try:
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * n)
    except RuntimeError:  # TensorFlow already started: the split cannot change any more
        pass


def available(backend: str | None = None) -> list[str]:
    """The devices a run can spread over: the GPUs, or else the CPU devices."""
    import keras
    backend = backend or keras.config.backend()
    if backend == "tensorflow":
        import tensorflow as tf
        _split_tf_cpu(tf)
        gpus = tf.config.list_logical_devices("GPU")
        return [d.name for d in gpus or tf.config.list_logical_devices("CPU")]
    if backend == "jax":
        return [str(d) for d in _jax_pool()]
    raise DeviceError(f"train.devices: not supported on the {backend} backend")


def _jax_pool() -> list:
    import jax
    return [d for d in jax.devices() if d.platform == "gpu"] or jax.devices("cpu")


def _count(asked, present: int) -> int:
    n = present if asked == "all" else int(asked)
    if n > present:
        raise DeviceError(f"train.devices {asked}: this machine shows {present} device(s); "
                          f"on a CPU, set {CPU_DEVICES_ENV} (TensorFlow) or "
                          "XLA_FLAGS=--xla_force_host_platform_device_count (JAX) to split it")
    return n


def spread(asked) -> tuple[contextlib.AbstractContextManager, list[str]]:
    """(scope to build and compile the model in, devices used) for a run's
    `train.devices`; one device (no scope) when it is absent or 1."""
    if asked in (None, 1):
        return contextlib.nullcontext(), []
    import keras
    backend = keras.config.backend()
    names = available(backend)
    n = _count(asked, len(names))
    if n == 1:
        return contextlib.nullcontext(), names[:1]
    if backend == "tensorflow":
        import tensorflow as tf
        strategy = tf.distribute.MirroredStrategy(names[:n])
        return strategy.scope(), names[:n]
    global _SET
    pool = _jax_pool()
    # For JAX the distribution is global and must hold through fit; release() ends it.
    keras.distribution.set_distribution(keras.distribution.DataParallel(devices=pool[:n]))
    _SET = True
    return contextlib.nullcontext(), names[:n]


_SET = False


def release() -> None:
    """End a JAX run's distribution (train_run calls this however the run ends)."""
    global _SET
    if _SET:
        import keras
        keras.distribution.set_distribution(None)
        _SET = False
