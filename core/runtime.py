"""What the process training a run knows of its circumstances: the executor
worker it is (core/executor.py sets it, meta.json records it) and the
exception that says it was asked to stop. Apart, so that the trainer, its
callbacks and the executors share them without importing one another."""
from __future__ import annotations

import os

WORKER_ENV = "CNNLAB_WORKER"


class Interrupted(KeyboardInterrupt):
    """The run was asked to stop (a signal, the job's CANCEL file)."""


def worker_name() -> str | None:
    """The executor's worker training in this process, if any (meta.json's `worker`)."""
    return os.environ.get(WORKER_ENV) or None
