"""Where a study's runs train: one after another in this process (`local`), or
each as a task of a Dask cluster (`dask`).

Why Dask (distributed) and not Ray: our unit of work is a whole run (minutes
to an hour), so what we need from a cluster is a scheduler that hands runs to
workers and hands a run to another worker when one dies. Dask's distributed
scheduler does that, is pure Python (a few MB, installs in seconds beside
TensorFlow), starts a local cluster in about a second, and joins a real one by
address (`dask scheduler` on one machine, `dask worker ADDRESS` on each of the
others). Ray would bring a 70 MB wheel, its own object store and dashboard for
nothing this workload uses.

Both executors go through train_run, so a run is the same record wherever it
trained: it resumes where a dead worker left it (its backup, on the shared
runs folder), and its lock means no two workers ever train it at once. The
worker is recorded in meta.json (`worker`), so `experiments runs` and the All
runs page show who holds a running run.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass

from core.runtime import WORKER_ENV, worker_name  # noqa: F401 (worker_name: as always imported from here)


@dataclass
class Outcome:
    """How one run ended, as the command line reports it."""
    label: str
    kind: str              # done | skipped | busy | failed | no-data | interrupted
    message: str = ""
    summary: dict | None = None
    worker: str | None = None
    seconds: float = 0.0


def train_one(config: dict, runs_dir=None, data_dir=None, force=False, verbose=0,
              keep_state=False, worker: str | None = None) -> Outcome:
    """Train one config (with its seed) and say how it ended, never raising
    for a run's own failure: the same function in this process and on a worker."""
    from core.records import run_id
    from core.study import no_data_errors
    from core.train import RunBusy, RunUnreadable, train_run

    label = f"{config['experiment']}/{run_id(config)}"
    if worker:
        os.environ[WORKER_ENV] = worker
    t = time.perf_counter()

    def out(kind, message="", summary=None):
        return Outcome(label, kind, message, summary, worker, time.perf_counter() - t)

    try:
        run, outcome = train_run(config, runs_dir, data_dir, force=force, verbose=verbose,
                                 keep_state=keep_state)
    except no_data_errors() as e:  # any study's "data not in the data directory"
        return out("no-data", str(e))
    except RunBusy as e:
        return out("busy", str(e))
    except RunUnreadable as e:
        return out("failed", str(e))
    except Exception as e:  # noqa: BLE001 - recorded as failed in meta.json
        return out("failed", f"{type(e).__name__}: {e}")
    return out("skipped" if outcome == "skipped" else "done", summary=run.summary)


def _dask_task(config, runs_dir, data_dir, force, keep_state):
    """What a Dask worker runs: train_one, the worker named after itself."""
    from distributed import get_worker
    me = get_worker()
    import socket
    name = f"{socket.gethostname()}:{me.name}"
    return train_one(config, runs_dir, data_dir, force=force, verbose=0, keep_state=keep_state,
                     worker=name)


def local_cluster(workers: int):
    """A Dask cluster of `workers` processes on this machine, one thread each
    (TensorFlow already uses every core, so one worker per machine).

    Dask's nanny starts each worker with OMP/MKL/OPENBLAS_NUM_THREADS=1 (right
    for many one-thread tasks, wrong for one TensorFlow run per machine): a
    worker would then train on other thread counts than `experiments run`
    does and may sum in another order. Workers get this process's
    environment for those instead."""
    import dask
    from distributed import LocalCluster

    environ = {k: v for k, v in dask.config.get("distributed.nanny.pre-spawn-environ").items()
               if not k.endswith("_NUM_THREADS")}
    with dask.config.set({"distributed.nanny.pre-spawn-environ": environ}):
        return LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                            dashboard_address=None, silence_logs=40)


def run_dask(configs: list[dict], runs_dir, data_dir, force: bool, keep_state: set,
             address: str | None = None, workers: int = 1, report=print):
    """Every config as one task of a Dask cluster; yields Outcomes as runs end.

    With no address a local_cluster() of `workers` processes starts here and
    stops after; with an address the tasks go to that cluster's workers,
    which must see the same runs and data folders (a shared file system) at
    the same paths. A task whose worker died
    is given to another worker (Dask retries it; the run resumes from its
    backup); a run another process holds comes back `busy`."""
    from distributed import Client, as_completed

    runs_dir = os.path.abspath(str(runs_dir)) if runs_dir else None
    data_dir = os.path.abspath(str(data_dir)) if data_dir else None
    cluster = None
    if address is None:
        cluster = local_cluster(workers)
    client = Client(address or cluster)
    try:
        n = len(client.scheduler_info().get("workers", {}))
        report(f"== dask: {len(configs)} run(s) on {n} worker(s) at {client.scheduler.address}")
        futures = [client.submit(_dask_task, cfg, runs_dir, data_dir, force, cfg["experiment"] in keep_state,
                                 key=f"train-{cfg['experiment']}-s{cfg['seed']}-{i}", pure=False, retries=2)
                   for i, cfg in enumerate(configs)]
        for future in as_completed(futures):
            yield future.result()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def makespan(seconds: list[float], machines: int, overhead: float = 0.0) -> float:
    """Wall time of runs of these durations on `machines` equal machines, each
    taking the longest run left when it frees up (what a scheduler with a
    queue does when runs are handed out longest first), plus `overhead`
    seconds per run."""
    import heapq
    free = [0.0] * machines
    for s in sorted(seconds, reverse=True):
        heapq.heappush(free, heapq.heappop(free) + s + overhead)
    return max(free)
