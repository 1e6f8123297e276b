"""Connecting a run to Ray: a local instance or an existing cluster, quietly, with clear errors.

Ray's own defaults suit an interactive notebook (progress bars, INFO logs, a dashboard); a dsc
run prints its own progress, so those are turned off. A cluster that cannot be reached is a
RunError naming the address and what to do (exit 4), never a traceback — and it is found by a
short TCP probe first, because Ray itself waits up to minutes for a dead address.
"""
from __future__ import annotations

import logging
import os
import socket
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable, Iterator

from dsc.ops.runtime import RunError

PROBE_TIMEOUT_S = 5.0
_NO_RAY = ("the ray engine needs Ray Data, which is not installed here: pip install 'dsc[ray]' "
           "(or run with --engine local)")


@dataclass(frozen=True)
class Cluster:
    """The Ray cluster a run used, as the manifest records it."""

    address: str  # "local" for an instance started for the run
    nodes: int
    cpus: int
    ray_version: str

    def manifest(self) -> dict:
        return {"address": self.address, "nodes": self.nodes, "cpus": self.cpus, "ray": self.ray_version}


@contextmanager
def connect(address: str | None, num_cpus: int | None, note: Callable[[str], None]) -> Iterator[Cluster]:
    """Ray for the length of a run: joined at `address`, or a local instance started here.

    A session this process already holds (a test's, a notebook's) is used as it is and left
    running; one started here is shut down at the end, however the run ends.

    A cluster started by `ray start` uses token authentication (Ray >= 2.52): `auto` on one of
    its nodes finds the token; a driver naming HOST:PORT sets RAY_AUTH_MODE=token and has the
    token in ~/.ray/auth_token or RAY_AUTH_TOKEN (docs/ray.md)."""
    try:
        import ray
        import ray.data
    except ImportError:
        raise RunError(_NO_RAY, code="DSC312") from None
    if address:
        _probe(address)  # even when a session exists: a bad address is always the same error
    started = not ray.is_initialized()
    if started:
        note(f"connecting to Ray at {address}" if address else "starting a local Ray instance")
        _init(ray, address, num_cpus)
    restore = _configure()
    try:
        yield Cluster(address or "local", sum(1 for n in ray.nodes() if n.get("Alive")),
                      int(ray.cluster_resources().get("CPU", 0)), ray.__version__)
    finally:
        restore()
        if started:
            ray.shutdown()


def _init(ray, address: str | None, num_cpus: int | None) -> None:
    quiet = {"logging_level": logging.ERROR, "log_to_driver": False}
    if not address:
        # address="local" always starts a new instance, even when RAY_ADDRESS names a cluster:
        # a run without --address must not land on someone's cluster by accident.
        ray.init(address="local", num_cpus=num_cpus or os.cpu_count() or 1, include_dashboard=False, **quiet)
        return
    try:
        ray.init(address=address, **quiet)
    except (ConnectionError, TimeoutError, ValueError, RuntimeError) as err:
        raise RunError(f"cannot connect to the Ray cluster at '{address}': {_first_line(err)}", code="DSC313") from None


def _probe(address: str) -> None:
    """Refuse what cannot work before Ray tries: a Ray Client address, or an address nothing
    listens at (Ray would retry for 30 s or more)."""
    if address == "auto":
        return  # Ray finds the local cluster's address file, or says at once that there is none
    if address.startswith("ray://"):
        # Ray Data does not run through Ray Client (ray-project/ray#48682): its driver needs a
        # core worker, which a client session lacks, and fails deep inside the first stage.
        raise RunError(f"cannot run on '{address}': Ray Data does not work through Ray Client (ray://). Run dsc "
                       "on a node of the cluster with --address auto (or the head's HOST:PORT), or submit it as a Ray "
                       "job: ray job submit --working-dir . -- dsc run SPEC --out DIR --engine ray --address auto",
                       code="DSC313")
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise RunError(f"cannot connect to the Ray cluster at '{address}': an address is 'auto' or HOST:PORT",
                       code="DSC313")
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=PROBE_TIMEOUT_S).close()
    except OSError as err:
        reason = err.strerror or type(err).__name__
        raise RunError(f"cannot connect to the Ray cluster at '{address}': {reason}. Is a cluster running there "
                       "(`ray start --head` prints its address)?", code="DSC313") from None


def _first_line(err: Exception) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__


def _configure() -> Callable[[], None]:
    """Ray Data settings for a batch job that prints its own progress; returns what puts the
    process's previous settings back (a notebook's session outlives the run)."""
    import ray.data
    from ray.data.context import ShuffleStrategy

    ctx = ray.data.DataContext.get_current()
    logger = logging.getLogger("ray.data")
    settings = {
        "enable_progress_bars": False,
        "print_on_execution_start": False,
        "enable_auto_log_stats": False,
        # The sort-based shuffle starts no aggregator actors: on a small cluster a hash shuffle
        # costs seconds of set-up per stage, a sort shuffle a fraction of one. Results are equal.
        "shuffle_strategy": ShuffleStrategy.SORT_SHUFFLE_PULL_BASED,
        # A RunError raised by a rule inside a task (bad data, a column the data lacks) must reach
        # the driver as itself, with its message and exit code; Ray Data otherwise replaces it with
        # a UserCodeException that keeps only the text of the traceback.
        "raise_original_map_exception": True,
    }
    before = {name: getattr(ctx, name) for name in settings}
    level = logger.level
    for name, value in settings.items():
        setattr(ctx, name, value)
    # Ray Data logs warnings a batch run cannot act on (a cluster whose CPUs are still being
    # registered, progress bars being off) and every task failure with its stack trace — also
    # a RunError's, which the CLI reports in one line. Whatever fails reaches dsc as an exception.
    logger.setLevel(logging.CRITICAL)

    def restore() -> None:
        for name, value in before.items():
            setattr(ctx, name, value)
        logger.setLevel(level)

    return restore


def original_error(err: BaseException) -> RunError | None:
    """The RunError behind an exception raised by a Ray task, if there is one.

    Ray re-raises a task's exception wrapped (RayTaskError, Ray Data's UserCodeException); the
    original, with its message and exit code, is somewhere in the chain."""
    seen, stack = set(), [err]
    while stack:
        e = stack.pop()
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        cause = getattr(e, "cause", None)
        if isinstance(cause, RunError):
            return cause
        if isinstance(e, RunError) and not hasattr(e, "cause"):
            return e
        stack += [e.__cause__, e.__context__, cause]
    return None
