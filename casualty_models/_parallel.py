"""Refit many claim sets on any ``concurrent.futures.Executor``: the one refit path.

Trust (sensitivity, leave-one-source-out), backtests, the calibration studies and the
command line all refit through :func:`refit_many` (or run their own top-level function
through :func:`run_all`). Each job carries the full keyword set of :func:`fit`, so a
refit is the same model as the fit it varies; claims and priors travel as plain records
(picklable for any executor: a process pool, or a dask cluster's executor). Progress is
logged to the ``casualty_models`` logger and, when asked, shown as one rich progress bar
on stderr; nothing here prints.
"""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from typing import Any, TypeVar

from casualty_models.claims import ClaimSet, records_to_claims
from casualty_models.diagnostics import ConvergenceWarning, ModelCheckWarning
from casualty_models.estimate import Estimate
from casualty_models.fitting import WarmStartWarning, fit
from casualty_models.model.priors import Priors

T = TypeVar("T")

log = logging.getLogger("casualty_models")

DEFAULT_WORKERS = 2
"""Worker processes of the default pool: one fit per core, each sampling its chains on
one core (``cores=1``), since the parallelism is across fits."""


def cores_per_fit(n_jobs: int, executor: Executor | None) -> int:
    """Cores each of ``n_jobs`` fits may sample on: with a pool on this machine (the
    default pool, or a process pool of the caller's), its cores shared among the fits,
    so one refit of the whole war does not run its two chains one after the other; 1
    with any other executor (dask), whose workers' cores we do not know."""
    if executor is not None and not isinstance(executor, ProcessPoolExecutor):
        return 1
    cores = os.cpu_count() or 1
    if executor is None:
        cores = min(DEFAULT_WORKERS, cores)
    return max(1, cores // max(n_jobs, 1))


@contextmanager
def executor(workers: int = DEFAULT_WORKERS, *, use_dask: bool = False) -> Iterator[Executor]:
    """A local process pool, or the executor of a dask.distributed ``LocalCluster`` (one
    single-threaded process per worker); shut down on exit."""
    if not use_dask:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            yield pool
        return
    from dask.distributed import Client, LocalCluster

    with (
        LocalCluster(n_workers=workers, threads_per_worker=1, processes=True) as cluster,
        Client(cluster) as client,
    ):
        yield client.get_executor()


def run_all(
    fn: Callable[..., T],
    jobs: Sequence[tuple[Any, ...]],
    *,
    executor: Executor | None = None,
    workers: int | None = None,
    label: str = "fits",
    progress: bool = False,
    on_result: Callable[[int, T], None] | None = None,
) -> list[T]:
    """``[fn(*job) for job in jobs]``, run in parallel; results in job order.

    ``fn`` must be a top-level function (it is pickled). Without ``executor`` a local
    process pool of ``workers`` (default :data:`DEFAULT_WORKERS`, at most one per job) is
    made and shut down; a lone job then runs in this process, which has what it needs
    imported already (a worker would spend seconds importing PyMC). ``on_result(index,
    result)`` is called as each job finishes (in completion order), e.g. to append it to
    a file. On an interrupt the jobs not yet started are cancelled.
    """
    if not jobs:
        return []
    own = executor is None
    n = min(len(jobs), workers or min(DEFAULT_WORKERS, os.cpu_count() or 1))
    pool = executor or (_InProcess() if len(jobs) == 1 else ProcessPoolExecutor(n))
    results: dict[int, T] = {}
    bar = _Bar(label, len(jobs)) if progress else None
    try:
        futures: dict[Future[T], int] = {pool.submit(fn, *job): i for i, job in enumerate(jobs)}
        for done, fut in enumerate(as_completed(futures), 1):
            i = futures[fut]
            results[i] = fut.result()
            log.info("%s: %d of %d done", label, done, len(jobs))
            if on_result is not None:
                on_result(i, results[i])
            if bar is not None:
                bar.advance()
    except BaseException:
        for fut in futures if "futures" in locals() else ():
            fut.cancel()
        raise
    finally:
        if bar is not None:
            bar.close()
        if own:
            pool.shutdown(cancel_futures=True)
    return [results[i] for i in range(len(jobs))]


class _InProcess(Executor):
    """Runs a job in this process when it is submitted: a lone job, for which this
    process has what it needs imported already (a worker would spend seconds importing
    PyMC)."""

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        fut: Future[T] = Future()
        try:
            fut.set_result(fn(*args, **kwargs))
        except Exception as err:  # as a worker's would, it is raised by fut.result()
            fut.set_exception(err)
        return fut


def portable(fit_kwargs: dict[str, Any]) -> dict[str, Any]:
    """``fit_kwargs`` with a :class:`Priors` as a plain dict, for sending to a worker."""
    priors = fit_kwargs.get("priors")
    return {**fit_kwargs, "priors": priors.to_dict()} if isinstance(priors, Priors) else fit_kwargs


def refit(
    records: list[dict[str, Any]],
    origin: str,
    fit_kwargs: dict[str, Any],
    extract: Callable[[Estimate], T],
) -> T:
    """Fit the claims ``records`` with ``fit_kwargs``; return ``extract(estimate)``.

    Runs in a worker. A refit that fails its checks is not an error here: the warnings
    are silenced and ``extract`` reads the estimate's diagnostics. So is a warm start
    (``fit_kwargs["warm_start"]``) that cannot apply: the refit starts cold.
    """
    claims = records_to_claims(records, origin)
    kwargs = dict(fit_kwargs)
    if isinstance(kwargs.get("priors"), dict):
        kwargs["priors"] = Priors.from_dict(kwargs["priors"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", ModelCheckWarning)
        warnings.simplefilter("ignore", WarmStartWarning)
        est = fit(claims, **kwargs)
    return extract(est)


def refit_many(
    claim_sets: Sequence[ClaimSet | Sequence[Any]],
    fit_kwargs: Sequence[dict[str, Any]],
    extract: Callable[[Estimate], T],
    *,
    origin: str = "<refit>",
    **run: Any,
) -> list[T]:
    """``extract(fit(claims, **kwargs))`` for each claim set and its keyword set.

    ``claim_sets`` are ClaimSets or sequences of claims; ``extract`` must be a top-level
    function (or a ``functools.partial`` of one). ``run`` goes to :func:`run_all`
    (``executor``, ``workers``, ``label``, ``progress``, ``on_result``).
    """
    if len(claim_sets) != len(fit_kwargs):
        raise ValueError("refit_many needs one keyword set per claim set")
    jobs = [
        (
            [c.to_record() for c in claims],
            getattr(claims, "origin", origin),
            portable(kwargs),
            extract,
        )
        for claims, kwargs in zip(claim_sets, fit_kwargs, strict=True)
    ]
    return run_all(refit, jobs, **run)


class _Bar:
    """One rich progress bar on stderr (quiet when stderr is not a terminal)."""

    def __init__(self, label: str, total: int):
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

        self._progress = Progress(
            f"[bold]{label}",
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=Console(stderr=True),
            transient=False,
        )
        self._task = self._progress.add_task(label, total=total)
        self._progress.start()

    def advance(self) -> None:
        self._progress.advance(self._task)

    def close(self) -> None:
        self._progress.stop()


__all__ = ["DEFAULT_WORKERS", "executor", "portable", "refit", "refit_many", "run_all"]
