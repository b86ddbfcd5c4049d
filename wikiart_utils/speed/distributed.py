"""Multi-GPU / multi-node training (DDP) helpers for `train`, started by torchrun:

    torchrun --nproc_per_node=4 -m wikiart_utils train --data ... --out ...

torchrun sets RANK, LOCAL_RANK, WORLD_SIZE, MASTER_ADDR and MASTER_PORT; `session` turns them into a
process group (NCCL on CUDA, gloo on CPU) for the duration of one `train` call. Without them (or with
WORLD_SIZE=1) everything here is a no-op and training runs in one process exactly as before. A process
group the caller initialised itself (e.g. under torch.multiprocessing.spawn) is used and left open.
"""
from __future__ import annotations

import contextlib
import functools
import inspect
import os
from dataclasses import dataclass
from typing import Any, Callable, Iterator

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class DDP:
    """This process's place in the group: `rank` 0 alone writes files and prints."""
    rank: int
    world_size: int
    local_rank: int

    @property
    def main(self) -> bool:
        return self.rank == 0


def requested() -> bool:
    """True when launched as one of several processes (torchrun's WORLD_SIZE > 1)."""
    return int(os.environ.get("WORLD_SIZE", "1")) > 1


def current() -> DDP | None:
    """The initialised process group of more than one process, or None (single-process training)."""
    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() < 2:
        return None
    rank = dist.get_rank()
    local = os.environ.get("LOCAL_RANK")
    if local is None:
        local = rank % max(1, torch.cuda.device_count())
    return DDP(rank, dist.get_world_size(), int(local))


def backend_for(device: str | None) -> str:
    wants_cuda = device.startswith("cuda") if device else torch.cuda.is_available()
    return "nccl" if wants_cuda and torch.cuda.is_available() else "gloo"


@contextlib.contextmanager
def session(device: str | None = None) -> Iterator[DDP | None]:
    """Initialise the process group from torchrun's environment, destroy it on exit (also on error).

    Yields `current()`. On CUDA each process is pinned to cuda:LOCAL_RANK before the group starts.
    """
    if not requested() or not dist.is_available() or dist.is_initialized():
        yield current()
        return
    backend = backend_for(device)
    if backend == "nccl":
        torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
    dist.init_process_group(backend=backend)
    try:
        yield current()
    finally:
        dist.destroy_process_group()


def launched(fn: Callable) -> Callable:
    """Decorator: run `fn` inside `session(device)`, `device` being its argument of that name."""
    signature = inspect.signature(fn)

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not requested():
            return fn(*args, **kwargs)
        device = signature.bind(*args, **kwargs).arguments.get("device")
        with session(device):
            return fn(*args, **kwargs)
    return wrapper


def device_for(ddp: DDP, device: torch.device) -> torch.device:
    """cuda:LOCAL_RANK for a CUDA run (one GPU per process), CPU otherwise (DDP has no MPS backend)."""
    if device.type == "cuda":
        return torch.device("cuda", ddp.local_rank)
    return torch.device("cpu")


def barrier(ddp: DDP | None) -> None:
    if ddp is not None:
        dist.barrier()


def sum_over_ranks(values: torch.Tensor, ddp: DDP | None) -> torch.Tensor:
    """`values` summed over all processes (unchanged in a single process)."""
    if ddp is not None:
        values = values.clone()
        dist.all_reduce(values)
    return values


def mean_over_ranks(mean: float, count: int, ddp: DDP | None) -> float:
    """The mean of a per-process mean over `count` items, weighted by every process's count."""
    if ddp is None:
        return mean
    device = torch.device("cuda", torch.cuda.current_device()) if dist.get_backend() == "nccl" else None
    total, n = sum_over_ranks(torch.tensor([mean * count, float(count)], device=device), ddp).tolist()
    return total / max(n, 1)


def gather(obj: Any, ddp: DDP | None) -> list:
    """[obj of rank 0, obj of rank 1, ...] on every process ([obj] in a single process)."""
    if ddp is None:
        return [obj]
    out: list = [None] * ddp.world_size
    dist.all_gather_object(out, obj)
    return out


def gatherer(ddp: DDP | None) -> Callable[[Any], list] | None:
    """`gather` bound to `ddp` -- the hook `engine.validate` pools the shards' predictions with -- or None
    in a single process."""
    return None if ddp is None else (lambda obj: gather(obj, ddp))


def broadcast_buffers(module: torch.nn.Module, ddp: DDP | None) -> None:
    """Copy rank 0's buffers (BatchNorm running statistics) to every process.

    DDP broadcasts them at the start of each training forward, so after the last step each process
    holds statistics updated by its own last batch; validating with rank 0's makes every process
    evaluate the very model that rank 0 saves.
    """
    if ddp is not None:
        for buffer in module.buffers():
            dist.broadcast(buffer, 0)


class NoEmptyBatches:
    """A training loader for DDP in which no batch is None: every process must join each gradient
    all-reduce, so a batch whose images all failed to decode is replaced by the last good one with every
    label unknown -- a zero loss, the same collective calls, and BatchNorm statistics of real paintings
    (a single black image stands in before the first good batch)."""

    def __init__(self, loader, image_size: int):
        self.loader, self.image_size = loader, image_size

    def __len__(self) -> int:
        return len(self.loader)

    def __getattr__(self, name: str):  # generator, sampler, ... of the wrapped loader
        return getattr(self.loader, name)

    def __iter__(self):
        from .. import labels
        last = (torch.zeros(1, 3, self.image_size, self.image_size, dtype=torch.uint8),)
        for batch in self.loader:
            if batch is None:
                images = last[0]
                batch = (images, torch.full((len(images), len(labels.TASKS)), labels.UNKNOWN, dtype=torch.long))
            last = batch
            yield batch
