"""Everything ``torch.distributed`` in one place: data-parallel training when a script runs under torchrun.

``torchrun --nproc_per_node=8 train.py`` starts 8 copies of an unchanged script with ``WORLD_SIZE``, ``RANK``,
``LOCAL_RANK`` (and the rendezvous address) in their environment. kerasish then

* initialises the process group once (NCCL for CUDA tensors, gloo for CPU tensors) with a finite timeout
  (``KERASISH_DIST_TIMEOUT`` seconds, default 600), and puts each process on GPU ``LOCAL_RANK``;
* wraps the model in ``DistributedDataParallel`` for training (rank 0's weights are broadcast when it is
  wrapped; gradients are averaged in backward);
* shards the data (``training/data_adapters/order.py``): ``batch_size`` is the global batch, split across
  the replicas, as Keras's distribution strategies define it;
* reduces losses and metrics across replicas before they reach the logs, so callbacks decide alike on every
  rank; lets only rank 0 print and write files (``kerasish.utils.io_utils.atomic_write``).

Every collective here is called by all ranks at the same point of the same script (SPMD). Code that runs
``fit``/``evaluate``/``predict`` on rank 0 only would wait for the other ranks until the timeout.
A process group the user initialised before (e.g. under ``torch.multiprocessing.spawn``) is used as it is.
"""
from __future__ import annotations

import atexit
import datetime
import os
import sys
import time
import warnings

import torch
import torch.distributed as dist
from torch import nn

TIMEOUT_ENV_VAR = "KERASISH_DIST_TIMEOUT"
DEFAULT_TIMEOUT_S = 600.0

_logged: set[str] = set()


# ---------------------------------------------------------------------------- who am I
def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    try:
        return int(value) if value not in (None, "") else default
    except ValueError as err:
        raise ValueError(f"kerasish.distributed: the environment variable {name} must be an integer; "
                         f"received {value!r}.") from err


def is_distributed() -> bool:
    """Whether this process is one replica of a data-parallel job: launched by torchrun with
    ``WORLD_SIZE`` > 1, or with a process group the user initialised."""
    if not dist.is_available():
        return False
    return dist.is_initialized() or _env_int("WORLD_SIZE", 1) > 1


def world_size() -> int:
    """Number of replicas (1 when not distributed)."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_world_size()
    return _env_int("WORLD_SIZE", 1) if is_distributed() else 1


def rank() -> int:
    """This replica's global rank (0 when not distributed)."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank()
    return _env_int("RANK", 0) if is_distributed() else 0


def local_rank() -> int:
    """This replica's rank on its machine: the index of its GPU."""
    return _env_int("LOCAL_RANK", 0) if is_distributed() else 0


def is_main_process() -> bool:
    """True on rank 0, the one process that prints and writes files (and in a single-process run)."""
    return rank() == 0


def device() -> torch.device:
    """The device of this replica: ``cuda:LOCAL_RANK`` when CUDA is available, else the CPU."""
    if torch.cuda.is_available():
        return torch.device("cuda", local_rank())
    return torch.device("cpu")


# ---------------------------------------------------------------------------- process group
def timeout() -> datetime.timedelta:
    """How long a collective may wait for the other ranks before it raises (never forever)."""
    value = os.environ.get(TIMEOUT_ENV_VAR)
    try:
        seconds = float(value) if value else DEFAULT_TIMEOUT_S
    except ValueError as err:
        raise ValueError(f"kerasish.distributed: {TIMEOUT_ENV_VAR} must be a number of seconds; "
                         f"received {value!r}.") from err
    if seconds <= 0:
        raise ValueError(f"kerasish.distributed: {TIMEOUT_ENV_VAR} must be positive; received {value!r}.")
    return datetime.timedelta(seconds=seconds)


def ensure_initialized() -> bool:
    """Initialise the default process group once when launched by torchrun; returns whether distributed.

    The backend string maps CPU tensors to gloo and, where CUDA exists, CUDA tensors to NCCL, so collectives
    work whichever device ``kerasish.backend`` trains on.
    """
    if not is_distributed():
        return False
    if dist.is_initialized():
        return True
    backend = "cpu:gloo,cuda:nccl" if torch.cuda.is_available() and dist.is_nccl_available() else "gloo"
    if torch.cuda.is_available():
        torch.cuda.set_device(local_rank())  # before NCCL starts, so each rank's communicator is on its own GPU
    dist.init_process_group(backend=backend, timeout=timeout())
    atexit.register(_destroy)
    log_once("init", f"kerasish: data-parallel training on {world_size()} processes "
                     f"({dist.get_backend()}, rank {rank()} on {device()}).")
    return True


def _destroy() -> None:
    """At the exit of a script that ended normally, destroy the process group, as torch asks.

    First yield the GIL for a moment: gloo's worker threads drop each finished collective's record, which holds
    a Python object, just after the collective returns, and need the GIL for that. If the interpreter is
    already finalizing by then, such a thread exits and the process aborts with "terminate called without an
    active exception" (seen in about 1 run in 10 of a short script on a busy 2-core machine, with or without
    kerasish; pytorch/pytorch#179291). After an uncaught exception nothing is done: the process is dying, its
    connections close, and the other ranks' collectives fail at once.
    """
    if hasattr(sys, "last_value"):
        return
    time.sleep(0.05)  # also when the script destroyed the group itself: its last collectives may be as recent
    if dist.is_initialized():
        try:
            dist.destroy_process_group()
        except Exception:  # noqa: BLE001 - best effort at interpreter exit
            pass


# ---------------------------------------------------------------------------- collectives
def all_reduce_sum(tensor: torch.Tensor) -> torch.Tensor:
    """``tensor`` summed over all ranks, in place (returned). Asynchronous on CUDA: no host sync."""
    if ensure_initialized():
        dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
    return tensor


def broadcast_int(value: int) -> int:
    """Rank 0's ``value`` on every rank (e.g. a shuffle seed, so that all ranks visit samples alike)."""
    if not ensure_initialized():
        return int(value)
    holder = torch.tensor([int(value)], dtype=torch.int64, device=_collective_device())
    dist.broadcast(holder, src=0)
    return int(holder.item())


def broadcast_buffers(module: nn.Module) -> None:
    """Copy rank 0's buffers (BatchNormalization moving statistics) to every rank. DDP broadcasts them
    before each training forward; after the last step each rank holds its own update until this runs."""
    buffers = list(module.buffers())
    if not buffers or not ensure_initialized():
        return
    with torch.no_grad():
        for buffer in buffers:
            dist.broadcast(buffer, src=0)


def gather_in_order(step_outputs: list[torch.Tensor]) -> torch.Tensor:
    """All replicas' step outputs in the original order of the data: step by step, rank by rank.

    That is the order both shardings of ``order.py`` produce: a global batch is cut into contiguous rank
    slices, and Sequence items go round-robin (item ``step * W + rank``). Every rank runs the same number of
    steps; a step's output may have 0 rows. The result is on every rank (two all_gathers: sizes, then rows
    padded to the longest replica).
    """
    if not ensure_initialized():
        return torch.cat(step_outputs)
    world = world_size()
    local = torch.cat(step_outputs)
    collective_device = _collective_device(local.device)
    sizes = torch.tensor([len(t) for t in step_outputs], dtype=torch.int64, device=collective_device)
    all_sizes = [torch.empty_like(sizes) for _ in range(world)]
    dist.all_gather(all_sizes, sizes)
    all_sizes = [s.tolist() for s in all_sizes]
    longest = max(sum(s) for s in all_sizes)
    padded = local.new_zeros((longest,) + tuple(local.shape[1:]))
    padded[:len(local)] = local
    padded = padded.to(collective_device)
    rows = [torch.empty_like(padded) for _ in range(world)]
    dist.all_gather(rows, padded)
    per_rank = [list(torch.split(r[:sum(s)], s)) for r, s in zip(rows, all_sizes)]
    return torch.cat([per_rank[r][step] for step in range(len(step_outputs)) for r in range(world)])


def _collective_device(preferred: torch.device | None = None) -> torch.device:
    # NCCL reduces CUDA tensors only; gloo CPU ones. With the mixed backend either works.
    if preferred is not None and preferred.type in ("cpu", "cuda"):
        if preferred.type == "cpu" and dist.get_backend() == "nccl":
            return device()
        return preferred
    return device() if dist.get_backend() == "nccl" else torch.device("cpu")


# ---------------------------------------------------------------------------- the model
class _ForwardModule(nn.Module):
    """What DDP wraps: ``model``'s parameters and buffers, with ``forward`` (possibly torch.compile'd) as its
    forward pass. The model itself is not changed, and its own ``forward`` stays the plain one."""

    def __init__(self, model: nn.Module, forward):
        super().__init__()
        self.model = model
        self._forward = forward

    def forward(self, *args, **kwargs):
        return self._forward(*args, **kwargs)


def data_parallel(model: nn.Module, forward) -> nn.Module:
    """``DistributedDataParallel`` over ``model`` (already on its device) whose forward is ``forward``.
    Constructing it is a collective: it broadcasts rank 0's parameters and buffers to every rank."""
    ensure_initialized()
    on_cuda = next(model.parameters()).device.type == "cuda"
    index = next(model.parameters()).device.index if on_cuda else None
    # DDP's default also broadcasts rank 0's buffers (BatchNormalization moving statistics) before each forward.
    return nn.parallel.DistributedDataParallel(_ForwardModule(model, forward),
                                               device_ids=[index] if on_cuda else None)


# ---------------------------------------------------------------------------- messages (rank 0)
def print_main(*args, **kwargs) -> None:
    """``print`` on rank 0 only: callbacks' messages appear once per job, not once per replica."""
    if is_main_process():
        print(*args, **kwargs)


def log_once(key: str, message: str) -> None:
    """Print ``message`` to stderr once per process, on rank 0 only."""
    if key in _logged:
        return
    _logged.add(key)
    if is_main_process():
        print(message, file=sys.stderr, flush=True)


def explain_global_batch(batch_size: int) -> None:
    """The one-time line saying what ``batch_size`` means under data parallelism (Keras's meaning)."""
    world = world_size()
    log_once("global_batch", f"kerasish: batch_size={batch_size} is the global batch: each step splits it "
                             f"across {world} replicas (about {max(1, batch_size // world)} samples each), "
                             "as Keras's distribution strategies do.")


def explain_sequence_sharding() -> None:
    world = world_size()
    log_once("sequence", f"kerasish: each step trains {world} batches of the Sequence, one per replica "
                         f"(replica r takes batches r, r+{world}, ...); steps_per_epoch counts Sequence batches "
                         f"and is divided by {world}.")


def warn_unsharded_generator() -> None:
    """A plain Python generator cannot be split: every rank consumes its own copy."""
    if "generator" in _logged:
        return
    _logged.add("generator")
    if is_main_process():
        warnings.warn(f"kerasish: training on a Python generator with {world_size()} processes: every rank "
                      "consumes its own generator, so unless each yields a different part of the data (shard it "
                      "with kerasish.distributed.rank() and world_size()), every sample is seen "
                      f"{world_size()} times per epoch. A kerasish.utils.Sequence is split automatically.",
                      UserWarning, stacklevel=4)


def warn_unsharded_loader(iterable: bool, has_sampler: bool) -> None:
    """A user's DataLoader is used as given: without a DistributedSampler every rank loads all the data."""
    if has_sampler or "loader" in _logged:
        return
    _logged.add("loader")
    if not is_main_process():
        return
    if iterable:
        fix = ("shard it inside the IterableDataset's __iter__ with kerasish.distributed.rank() and world_size(), "
               "or pass a map-style Dataset to fit() and kerasish splits every global batch across the processes")
    else:
        fix = ("build it with sampler=torch.utils.data.distributed.DistributedSampler(dataset) (kerasish calls "
               "its set_epoch(epoch) every epoch), or pass the Dataset itself to fit() and kerasish splits "
               "every global batch across the processes")
    warnings.warn(f"kerasish: training on a torch DataLoader without a DistributedSampler with {world_size()} "
                  f"processes: every rank loads all the data, so every sample is seen {world_size()} times per "
                  f"epoch. To fix it, {fix}.", UserWarning, stacklevel=4)
