"""Run a function in several processes that form a torch.distributed group, for tests of
multi-process training on a CPU (the ``gloo`` backend; no GPU, no launcher needed).

``run_in_processes(train, 2, config)`` starts two fresh Python processes (``spawn``), joins them
in a process group as ranks 0 and 1 (the environment torchrun would set), calls
``train(config)`` in each and returns the two results in rank order. ``train`` must be a
module-level function (the processes import it) and its arguments and result picklable.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import queue
import socket
import traceback
from collections.abc import Callable
from typing import Any


def free_port() -> int:
    """A TCP port on localhost that nothing listens on now (for the rendezvous)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _rank_main(rank: int, size: int, port: int, fn: Callable[..., Any], args: tuple, results: Any) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank), WORLD_SIZE=str(size),
                      LOCAL_RANK=str(rank), OMP_NUM_THREADS="1")
    import torch

    from ecgbench.nn import distributed

    torch.set_num_threads(1)
    try:
        distributed.start("cpu")
        results.put((rank, "ok", fn(*args)))
    except BaseException:  # the parent reports it; a silent death would hang the other ranks' test
        results.put((rank, "error", traceback.format_exc()))
    finally:
        distributed.stop()


def run_in_processes(fn: Callable[..., Any], nproc: int, *args: Any, timeout: float = 600.0) -> list[Any]:
    """``fn(*args)`` in ``nproc`` processes of one gloo process group; their results by rank.

    A rank that raises makes this raise RuntimeError with that rank's traceback; a group that
    does not finish within ``timeout`` seconds is terminated (RuntimeError)."""
    context = mp.get_context("spawn")
    results = context.Queue()
    port = free_port()
    processes = [context.Process(target=_rank_main, args=(rank, nproc, port, fn, args, results)) for rank in range(nproc)]
    for process in processes:
        process.start()
    outcome: dict[int, tuple[str, Any]] = {}
    try:
        for _ in range(nproc):  # read before joining: a rank blocks until its result is taken
            try:
                rank, status, value = results.get(timeout=timeout)
            except queue.Empty:
                codes = [p.exitcode for p in processes]
                raise RuntimeError(f"no result from every rank within {timeout} s (exit codes {codes})") from None
            outcome[rank] = (status, value)
            if status == "error":
                break
        for process in processes:
            process.join(timeout if len(outcome) == nproc else 1.0)
    finally:
        for process in processes:
            if process.is_alive():
                process.terminate()
                process.join()
    failed = {rank: value for rank, (status, value) in outcome.items() if status == "error"}
    if failed:
        rank = min(failed)
        raise RuntimeError(f"rank {rank} of {nproc} failed:\n{failed[rank]}")
    return [outcome[rank][1] for rank in range(nproc)]
