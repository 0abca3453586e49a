"""Sweeps: many independent runs as tasks on a Dask cluster, each finished run cached under a hash of its config.

By default the tasks go to a `LocalCluster` started in this process, one single-threaded worker process per
core (nothing to start by hand); a scheduler address (the notebook's, or its run context's:
`paperlib.context`) sends them to a running cluster instead, whose workers must have this package and its
data. A worker process owns torch's CPU threads at its share of its machine's cores
(`paperlib.hardware.own_threads`), so tasks never oversubscribe them. A finished run is
written atomically to ``checkpoints_dir()/NAME/sweep/HASH.json`` as it arrives: a rerun skips it, and an
interrupted sweep resumes with the runs that had not finished. A task that raises is reported with its
config; the other runs finish and are kept, and `SweepError` lists every failure at the end.

    with Sweep("gamma_empirical", train_run) as sweep:
        results = sweep.run([{"D": 31250, "seed": 0}, {"D": 62500, "seed": 0}])

`run_tasks` runs tasks on the same kind of cluster without the cache, for runs that keep their own checkpoints
and may start further runs when one finishes (a baseline whose budget is another run's result).
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import warnings
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

from paperlib.atomic import atomic_write_json
from paperlib.hardware import own_threads
from paperlib.paths import checkpoints_dir
from paperlib.progress import progress

if TYPE_CHECKING:
    from distributed import Client

Config = Mapping[str, Any]
Task = Callable[[dict[str, Any]], dict[str, Any]]


class SweepError(RuntimeError):
    """Runs of a sweep raised; every other run finished and is cached."""

    def __init__(self, failures: Sequence[tuple[Config, str]]):
        self.failures = list(failures)
        lines = [f"{len(self.failures)} run(s) of the sweep failed; the others finished and are cached:"]
        lines += [f"  {_canonical(config)}: {error}" for config, error in self.failures]
        super().__init__("\n".join(lines))


# A local worker trains as fast as a plain process: Dask's nanny sets glibc's MALLOC_TRIM_THRESHOLD_ to 64 KiB
# in its workers, which returns torch's freed tensors to the kernel at every step and made the small models of
# 'Measuring γ' train 1.6x slower per step (15 ms against 24 ms on an AMD EPYC), and its statistical profiler
# samples the training thread's stack every 10 ms. Workers of a cluster started elsewhere keep that cluster's.
LOCAL_WORKER_CONFIG = {"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None,
                       "distributed.worker.profile.enabled": False}


def machine_cores() -> int:
    """The cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


@contextmanager
def dask_client(scheduler: str = "", workers: int = 0) -> Iterator[Client]:
    """A client of the cluster at `scheduler`, or of a new local cluster of `workers` single-threaded worker
    processes (0: one per core), closed on exit."""
    import dask
    from distributed import Client, LocalCluster

    if workers < 0:
        raise ValueError(f"workers must be >= 0, got {workers}")
    if scheduler:
        try:
            client = Client(scheduler)
        except OSError as error:
            raise ConnectionError(f"cannot reach the Dask scheduler at {scheduler!r}: {error}") from None
        with client:
            yield client
        return
    with dask.config.set(LOCAL_WORKER_CONFIG), LocalCluster(
            n_workers=workers or machine_cores(), threads_per_worker=1, processes=True,
            dashboard_address="127.0.0.1:0") as cluster, Client(cluster) as client:
        yield client


def thread_shares(client: Client) -> dict[str, int]:
    """torch threads for a task on each worker: its machine's cores over the task slots of every worker there."""
    workers = client.scheduler_info(n_workers=-1)["workers"]
    cores = client.run(machine_cores)
    slots: Counter[str] = Counter()
    for info in workers.values():
        slots[info["host"]] += info["nthreads"]
    return {address: max(1, cores[address] // slots[info["host"]]) for address, info in workers.items()}


def _with_threads(task: Callable[[Any], Any], shares: Mapping[str, int], config: Any) -> Any:
    """`task(config)` on a worker, whose process owns torch's threads at that worker's share of its machine."""
    from distributed import get_worker

    own_threads(shares.get(get_worker().address, 1))
    return task(config)


def map_tasks(client: Client, fn: Callable[[Any], Any], items: Sequence[Any], desc: str
              ) -> Iterator[tuple[int, Any]]:
    """Submit `fn(item)` for every item; yield (index, result), or (index, the exception it raised), as each
    task finishes, with a progress bar."""
    from distributed import as_completed

    futures = {client.submit(fn, item, pure=False): i for i, item in enumerate(items)}
    with progress(total=len(items), desc=desc) as bar:
        for future in as_completed(futures):
            yield futures[future], future.exception() if future.status == "error" else future.result()
            future.release()
            bar.update(1)


def run_tasks(task: Callable[[Any], Any], items: Sequence[Any], then: Callable[[Any, Any], Sequence[Any]],
              scheduler: str = "", workers: int = 0, desc: str = "runs", total: int | None = None) -> None:
    """Run `task(item)` for every item on the cluster of `dask_client`, each with torch's threads set to its
    worker's share of the cores, in the order given; as each finishes, `then(item, result)` runs in this process
    and may return more items, which go before the ones still waiting. A task that raises is re-raised here as it
    is (closing the cluster stops the others). `total`: the items expected in all, for the progress bar."""
    from distributed import as_completed

    with dask_client(scheduler, workers) as client:
        run = partial(_with_threads, task, thread_shares(client))
        submitted: dict[Any, Any] = {}

        def submit(item: Any, priority: int) -> Any:
            future = client.submit(run, item, pure=False, priority=priority)
            submitted[future] = item
            return future

        queue = as_completed([submit(item, -i) for i, item in enumerate(items)])
        with progress(total=total or len(items), desc=desc) as bar:
            for future in queue:
                if future.status == "error":
                    raise future.exception()
                for item in then(submitted[future], future.result()):
                    queue.add(submit(item, len(submitted)))
                future.release()
                bar.update(1)


class Sweep:
    """The runs of `task` (a module-level function from a JSON-able config to a JSON-able result) for the
    chapter `name`, on the cluster at `scheduler` ("": a local cluster of `workers` processes, 0: one per
    core), started only when a run is not cached. `ran` and `cached` count runs; `from_cache` says, for each
    config of the last `run`, whether its result was read from the cache. The cache's hash names the task by its
    module and qualified name, or by its ``cache_name`` attribute where it has one (a task moved to another module
    keeps its old name there, and so its cached runs)."""

    def __init__(self, name: str, task: Task, scheduler: str = "", workers: int = 0):
        if workers < 0:
            raise ValueError(f"workers must be >= 0, got {workers}")
        self.folder = checkpoints_dir() / name / "sweep"
        self.task, self.scheduler, self.workers = task, scheduler, workers
        self.ran = self.cached = 0
        self.from_cache: list[bool] = []
        self._stack = ExitStack()
        self._client: Client | None = None
        self._shares: dict[str, int] = {}

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the client and any local cluster."""
        self._stack.close()
        self._client = None

    @property
    def where(self) -> str:
        """Where the tasks run, in words."""
        if self.scheduler:
            return f"the Dask cluster at {self.scheduler}"
        workers = self.workers or machine_cores()
        return f"a local Dask cluster of {workers} single-threaded worker process{'es' if workers > 1 else ''}"

    def path(self, config: Config) -> Path:
        """Where the result of `config` is cached: the hash covers the task's name and the config."""
        name = getattr(self.task, "cache_name", None) or f"{self.task.__module__}.{self.task.__qualname__}"
        return self.folder / f"{hashlib.sha256(f'{name} {_canonical(config)}'.encode()).hexdigest()[:16]}.json"

    def load(self, config: Config) -> dict[str, Any] | None:
        """The cached result of `config`, or None (a missing, unreadable or mismatched file is a miss)."""
        path = self.path(config)
        try:
            saved = json.loads(path.read_text())
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as error:
            warnings.warn(f"unreadable sweep result {path} ({error}); running it again", stacklevel=2)
            return None
        if not isinstance(saved, dict) or saved.get("config") != json.loads(_canonical(config)):
            warnings.warn(f"sweep result {path} belongs to another config; running it again", stacklevel=2)
            return None
        return saved["result"]

    def run(self, configs: Sequence[Config], desc: str = "runs") -> list[dict[str, Any]]:
        """The result of every config, in order: cached ones read, the others run as tasks and cached as each
        finishes. Raises `SweepError` naming the configs whose task raised, after the others have finished."""
        results = [self.load(config) for config in configs]
        pending = [i for i, result in enumerate(results) if result is None]
        self.cached += len(configs) - len(pending)
        self.from_cache = [result is not None for result in results]
        if not pending:
            return results
        client = self._connect()
        failures = []
        task = partial(_with_threads, self.task, self._shares)
        for j, outcome in map_tasks(client, task, [dict(configs[i]) for i in pending], desc):
            config = configs[pending[j]]
            if isinstance(outcome, BaseException):
                failures.append((config, f"{type(outcome).__name__}: {outcome}"))
                print(f"{desc}: FAILED {_canonical(config)}: {failures[-1][1]}", file=sys.stderr, flush=True)
                continue
            atomic_write_json(self.path(config), {"config": json.loads(_canonical(config)), "result": outcome})
            results[pending[j]] = outcome
            self.ran += 1
        if failures:
            raise SweepError(failures)
        return results

    def _connect(self) -> Client:
        if self._client is None:
            self._client = self._stack.enter_context(dask_client(self.scheduler, self.workers))
            self._shares = thread_shares(self._client)
        return self._client


def _canonical(config: Config) -> str:
    """The config as sorted JSON: its identity in the cache. Raises TypeError for a value JSON cannot hold."""
    try:
        return json.dumps(dict(config), sort_keys=True)
    except TypeError as error:
        raise TypeError(f"a sweep config must be JSON (numbers, strings, lists, mappings): {error}") from None
