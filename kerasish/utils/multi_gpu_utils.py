"""Keras 2.3.1's ``keras.utils.multi_gpu_model``, mapped to kerasish's data parallelism.

Keras copies the model onto each GPU inside one TensorFlow graph, splits every batch among the copies and
concatenates their outputs. kerasish's data parallelism is torchrun's instead (kerasish/distributed.py): one
process per GPU, each training the same model on its share of every batch, gradients averaged by
DistributedDataParallel, ``batch_size`` the global batch -- what ``multi_gpu_model`` promised, and faster.
torch's single-process ``nn.DataParallel`` was not chosen: it copies modules per step, but a kerasish model
runs its graph through the layer objects it recorded, which such copies do not replace, and PyTorch itself
recommends DistributedDataParallel over it.

So ``multi_gpu_model(model, gpus)``

* checks ``gpus`` and the visible devices as Keras does, with Keras's ValueErrors (``gpus`` below 2, or more
  GPUs asked for than CUDA shows);
* under torchrun (one process per GPU) returns ``model`` itself, which kerasish already trains data-parallel:
  a Keras script that calls ``multi_gpu_model`` runs unchanged under ``torchrun --nproc_per_node=N``, and
  saving the template model, as Keras's docs advise, saves the trained weights;
* in a single process with enough GPUs raises a RuntimeError giving the exact torchrun command for the script.

``cpu_merge`` and ``cpu_relocation`` placed TensorFlow's weight copies and output merge; DistributedDataParallel
keeps a copy of the weights on each GPU and merges nothing, so they must be booleans and change nothing.
"""
from __future__ import annotations

import shlex
import sys

import torch

from kerasish import distributed

__all__ = ["multi_gpu_model"]


def _available_devices() -> list[str]:
    """Keras's device names for what this process sees: ``['/gpu:0', ..., '/cpu:0']``."""
    return [f"/gpu:{i}" for i in range(torch.cuda.device_count())] + ["/cpu:0"]


def _replica_count(gpus, available: list[str]) -> tuple[int, list[str]]:
    """``(number of replicas, Keras's target device names)`` for ``gpus``; Keras 2.3.1's checks and wording."""
    if not gpus:  # all visible GPUs, e.g. CUDA_VISIBLE_DEVICES=0,2
        gpus = len([name for name in available if name.startswith("/gpu:")])
    if isinstance(gpus, (list, tuple)):
        if len(gpus) <= 1:
            raise ValueError("For multi-gpu usage to be effective, call `multi_gpu_model` with `len(gpus) >= 2`. "
                             f"Received: `gpus={gpus}`")
        target_ids = list(gpus)
    else:
        if gpus <= 1:
            raise ValueError("For multi-gpu usage to be effective, call `multi_gpu_model` with `gpus >= 2`. "
                             f"Received: `gpus={gpus}`")
        target_ids = list(range(gpus))
    targets = ["/cpu:0"] + [f"/gpu:{i}" for i in target_ids]
    for device in targets:
        if device not in available:
            raise ValueError(f"To call `multi_gpu_model` with `gpus={gpus}`, we expect the following devices to be "
                             f"available: {targets}. However this machine only has: {available}. "
                             "Try reducing `gpus`.")
    return len(target_ids), targets


def torchrun_command(nproc: int) -> str:
    """The command that runs this script as it was started, on ``nproc`` processes (one per GPU)."""
    script = sys.argv[0] if sys.argv and sys.argv[0] not in ("", "-c") else "your_script.py"
    return shlex.join(["torchrun", "--standalone", f"--nproc_per_node={nproc}", script, *sys.argv[1:]])


def multi_gpu_model(model, gpus=None, cpu_merge=True, cpu_relocation=False):
    """Data-parallel training of ``model`` on ``gpus`` GPUs (an int >= 2 or a list of GPU ids; default: all
    visible GPUs). Under torchrun it returns ``model`` (kerasish trains it data-parallel across the processes);
    in a single process it raises an error giving the torchrun command to use. See the module docstring."""
    for name, value in (("cpu_merge", cpu_merge), ("cpu_relocation", cpu_relocation)):
        if not isinstance(value, bool):
            raise TypeError(f"multi_gpu_model: {name} must be True or False; received {value!r}.")
    if distributed.is_distributed():
        replicas = distributed.world_size()
        requested = len(gpus) if isinstance(gpus, (list, tuple)) else gpus
        if requested and requested != replicas:
            raise ValueError(f"multi_gpu_model: gpus={gpus} but this job runs {replicas} processes, one per GPU; "
                             f"launch it as {torchrun_command(requested)!r}, or pass gpus=None.")
        return model
    replicas, _ = _replica_count(gpus, _available_devices())
    raise RuntimeError(
        f"multi_gpu_model: kerasish trains on {replicas} GPUs with one process per GPU (torchrun), not by "
        "copying the model inside one process. Run this script unchanged as\n"
        f"    {torchrun_command(replicas)}\n"
        "Under torchrun multi_gpu_model returns the model itself, trained data-parallel with batch_size as the "
        "global batch, as multi_gpu_model's was. Or train `model` directly on one GPU.")
