"""Data-parallel training under torchrun (kerasish/distributed.py), with 2 CPU processes on gloo.

The 2-process runs are tests/_distributed_worker.py under ``python -m torch.distributed.run --standalone``
(the user's command; it sets WORLD_SIZE, RANK, LOCAL_RANK and a free rendezvous port). Every expected value
comes from a single-process run of the same script in this process, or from NumPy.
"""
from __future__ import annotations

import importlib.util
import os
import pickle
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from kerasish import distributed
from kerasish.training.data_adapters.order import Shard, epoch_order, replica_items, replica_rows, replica_steps
from kerasish.utils import Sequence
from kerasish.utils.io_utils import atomic_write

ROOT = Path(__file__).resolve().parents[1]
WORKER_PATH = Path(__file__).with_name("_distributed_worker.py")
_spec = importlib.util.spec_from_file_location("_distributed_worker", WORKER_PATH)
worker = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(worker)

LAUNCH_TIMEOUT_S = 120  # a hung job fails the test instead of the CI run


def _env(**extra) -> dict:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
               OMP_NUM_THREADS="1", KERASISH_DIST_TIMEOUT="30")
    env.pop("KERASISH_DEVICE", None)
    env.update(extra)
    return env


def _torchrun(scenario: str, out_dir: Path, **env) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
               str(WORKER_PATH), scenario, str(out_dir)]
    return subprocess.run(command, cwd=ROOT, env=_env(**env), capture_output=True, text=True,
                          timeout=LAUNCH_TIMEOUT_S)


def _results(out_dir: Path) -> list[dict]:
    return [pickle.loads((out_dir / f"rank{rank}.pkl").read_bytes()) for rank in range(2)]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """One torchrun job with every training scenario; its processes' results, stderr and files."""
    out_dir = tmp_path_factory.mktemp("ddp")
    job = _torchrun("train", out_dir)
    assert job.returncode == 0, job.stdout + job.stderr
    return {"ranks": _results(out_dir), "stderr": job.stderr, "stdout": job.stdout, "dir": out_dir}


def _assert_same_arrays(left, right, atol=0.0):
    assert len(left) == len(right)
    for a, b in zip(left, right):
        if atol:
            np.testing.assert_allclose(a, b, rtol=0, atol=atol)
        else:
            np.testing.assert_array_equal(a, b)


def _assert_close_logs(left: dict, right: dict, atol=1e-5):
    assert list(left) == list(right)
    for key in left:
        np.testing.assert_allclose(left[key], right[key], rtol=0, atol=atol, err_msg=key)


# ---------------------------------------------------------------------------- sharding (no processes)
@pytest.mark.parametrize("rows, world", [(16, 2), (17, 2), (1, 2), (10, 3), (2, 4), (0, 2)])
def test_replica_rows_cut_a_batch_into_contiguous_slices_differing_by_at_most_one(rows, world):
    expected = np.array_split(np.arange(100, 100 + rows), world)  # NumPy's split: the first ones take the extra
    for rank in range(world):
        first, last = replica_rows(100, 100 + rows, Shard(rank, world))
        np.testing.assert_array_equal(np.arange(first, last), expected[rank])


def test_replica_items_go_round_robin_and_every_replica_runs_the_same_number_of_steps():
    shares = [list(replica_items(9, Shard(rank, 2))) for rank in range(2)]
    assert shares == [[0, 2, 4, 6, 8], [1, 3, 5, 7]]
    assert replica_steps(9, Shard(0, 2)) == replica_steps(9, Shard(1, 2)) == 5
    assert replica_steps(1, Shard(1, 4)) == 1 and list(replica_items(1, Shard(1, 4))) == []


def test_atomic_write_discards_writes_on_ranks_other_than_zero(tmp_path, monkeypatch):
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("RANK", "1")
    assert distributed.is_distributed() and not distributed.is_main_process()
    with atomic_write(tmp_path / "sub" / "weights.bin") as f:
        f.write(b"x" * 1000)
        f.seek(0)
        f.write(b"y")
        assert f.tell() == 1
    with atomic_write(tmp_path / "log.csv", "w") as f:
        f.write("epoch,loss\n")
    assert list(tmp_path.iterdir()) == []  # no file, no directory, no temporary file
    monkeypatch.setenv("RANK", "0")
    with atomic_write(tmp_path / "log.csv", "w") as f:
        f.write("epoch,loss\n")
    assert (tmp_path / "log.csv").read_text() == "epoch,loss\n"


def test_under_torchrun_the_device_is_the_local_rank_device(monkeypatch):
    from kerasish import backend
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("RANK", "1")
    monkeypatch.setenv("LOCAL_RANK", "1")
    expected = "cuda:1" if torch.cuda.is_available() else "cpu"
    assert str(backend.get_device()) == expected == str(distributed.device())


def test_flatten_and_reshape_accept_the_empty_batch_of_a_replica_without_rows():
    from kerasish.layers import Flatten, Reshape
    flatten, reshape = Flatten(), Reshape((-1, 2))
    flatten.build((None, 4, 3))
    reshape.build((None, 4, 3))
    assert tuple(flatten(torch.zeros(0, 4, 3)).shape) == (0, 12)
    assert tuple(reshape(torch.zeros(0, 4, 3)).shape) == (0, 6, 2)


# ---------------------------------------------------------------------------- 2 processes: training
def test_final_weights_are_identical_on_both_ranks(run):
    rank0, rank1 = run["ranks"]
    _assert_same_arrays(rank0["weights"], rank1["weights"])
    _assert_same_arrays(rank0["early_stopping"][2], rank1["early_stopping"][2])
    for scenario in ("sequence", "images", "memmap"):  # images: BatchNormalization moving statistics included
        _assert_same_arrays(rank0[scenario]["weights"], rank1[scenario]["weights"])


def test_weights_and_logs_equal_a_single_process_run_with_the_same_global_batch_and_order(run):
    rank0, _ = run["ranks"]
    x, y, sample_weight, x_val, y_val = worker.arrays()
    model = worker.mlp(weight_seed=100)  # rank 0's initial weights: DDP broadcast them to rank 1
    model._shuffle_seed = rank0["seed"]  # the seed every rank used (rank 0's)
    history = model.fit(x, y, sample_weight=sample_weight, batch_size=worker.BATCH_SIZE, epochs=worker.EPOCHS,
                        verbose=0, validation_data=(x_val, y_val), shuffle=True)
    _assert_same_arrays(rank0["weights"], model.get_weights(), atol=1e-5)
    _assert_close_logs(rank0["history"], history.history)
    np.testing.assert_allclose(rank0["evaluate"], model.evaluate(x_val, y_val, batch_size=4, verbose=0), atol=1e-5)


def test_sequence_batches_split_across_ranks_equal_one_process_training_on_the_pairs(run):
    rank0, _ = run["ranks"]
    sequence = worker.VaryingSequence()

    class Pairs(Sequence):
        """Step k of pass p of the 2-replica run: Sequence batches order[2k] and order[2k + 1] as one batch."""

        def __init__(self):
            self.passes = 0

        def __len__(self):
            return 5

        def __getitem__(self, step):
            order = epoch_order(len(sequence), self.passes, rank0["sequence"]["seed"], True, 1).tolist()
            items = [sequence[i] for i in order[2 * step:2 * step + 2]]
            return np.concatenate([b[0] for b in items]), np.concatenate([b[1] for b in items])

        def on_epoch_end(self):
            self.passes += 1

    model = worker.mlp(weight_seed=200)
    history = model.fit_generator(Pairs(), epochs=2, shuffle=False, verbose=0)
    _assert_same_arrays(rank0["sequence"]["weights"], model.get_weights(), atol=1e-5)
    _assert_close_logs(rank0["sequence"]["history"], history.history)


def test_memory_mapped_arrays_are_sharded_like_arrays(run):
    rank0, _ = run["ranks"]
    x, y, _, _, _ = worker.arrays()
    model = worker.mlp(weight_seed=400)
    model._shuffle_seed = rank0["memmap"]["seed"]
    history = model.fit(x, y, batch_size=worker.BATCH_SIZE, epochs=2, verbose=0)
    _assert_same_arrays(rank0["memmap"]["weights"], model.get_weights(), atol=1e-5)
    _assert_close_logs(rank0["memmap"]["history"], history.history)


def test_epoch_and_batch_logs_are_global_and_the_same_on_both_ranks(run):
    rank0, rank1 = run["ranks"]
    assert rank0["epochs"] == rank1["epochs"] and rank0["history"] == rank1["history"]
    assert rank0["batches"] == rank1["batches"]
    # size is the global batch: 81 rows in batches of 16, the last of 1 row (rank 1 trains on none of it)
    assert [size for size, _, _ in rank0["batches"]] == [16] * 5 + [1] + [16] * 5 + [1] + [16] * 5 + [1]
    assert rank0["evaluate"] == rank1["evaluate"]


def test_early_stopping_stops_both_ranks_at_the_same_epoch(run):
    rank0, rank1 = run["ranks"]
    assert rank0["early_stopping"][:2] == rank1["early_stopping"][:2] == (1, 2)  # stopped after epoch 2 of 5


def test_image_iterator_shuffles_and_augments_with_rank_zeros_seed(run):
    rank0, rank1 = run["ranks"]
    assert rank0["images"]["stream_seed"] == rank1["images"]["stream_seed"]
    assert rank0["images"]["history"] == rank1["images"]["history"]


def test_predict_returns_every_row_in_order_on_every_rank(run):
    rank0, rank1 = run["ranks"]
    x, _, _, _, _ = worker.arrays()
    model = worker.mlp(weight_seed=0)
    model.set_weights(rank0["weights"])
    expected = model.predict(x, batch_size=worker.BATCH_SIZE)
    assert rank0["predict"].shape == (81, 3)
    np.testing.assert_allclose(rank0["predict"], expected, rtol=0, atol=1e-6)
    np.testing.assert_array_equal(rank0["predict"], rank1["predict"])


# ---------------------------------------------------------------------------- 2 processes: output
def test_only_rank_zero_prints_progress(run):
    rank0, rank1 = run["ranks"]
    assert rank1["stdout"] == ""
    assert rank0["stdout"].startswith("Train on 81 samples, validate on 21 samples\nEpoch 1/3\n")
    assert rank0["stdout"].count("Epoch 1/3") == 1
    assert "81/81 [==============================]" in rank0["stdout"]  # the bar counts the global batches
    assert "21/21 [==============================]" in rank0["stdout"]  # evaluate's bar too
    assert run["stderr"].count("batch_size=16 is the global batch") == 1


def test_only_rank_zero_writes_files(run):
    names = sorted(path.name for path in run["dir"].iterdir() if not path.name.startswith("rank"))
    assert names == ["log_rank0.csv", "model_rank0.kerasish", "x.npy"]  # x.npy: written by the test script
    csv_lines = (run["dir"] / "log_rank0.csv").read_text().splitlines()
    assert len(csv_lines) == 1 + worker.EPOCHS


def test_a_plain_generator_is_warned_about_once_on_rank_zero(run):
    rank0, rank1 = run["ranks"]
    assert len(rank0["generator_warnings"]) == 1 and "every rank consumes its own generator" in \
        rank0["generator_warnings"][0]
    assert rank1["generator_warnings"] == []


# ---------------------------------------------------------------------------- 2 processes: failures
def test_an_exception_on_one_rank_ends_the_torchrun_job_with_that_error(tmp_path):
    start = time.monotonic()
    job = _torchrun("fail", tmp_path)
    elapsed = time.monotonic() - start
    assert job.returncode != 0
    assert "RuntimeError: deliberate failure on rank 1" in job.stderr
    assert elapsed < 60


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_without_a_launcher_to_stop_them_the_other_ranks_fail_instead_of_waiting(tmp_path):
    """Two processes started with torchrun's environment by hand: nothing kills rank 0 when rank 1 dies, so
    its own collectives must fail (the peer closed its connection) rather than wait."""
    port = str(_free_port())
    processes = [subprocess.Popen([sys.executable, str(WORKER_PATH), "fail", str(tmp_path)], cwd=ROOT,
                                  env=_env(MASTER_ADDR="127.0.0.1", MASTER_PORT=port, WORLD_SIZE="2", RANK=str(rank),
                                           LOCAL_RANK=str(rank), KERASISH_DIST_TIMEOUT="20"),
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for rank in range(2)]
    start = time.monotonic()
    outputs = [p.communicate(timeout=LAUNCH_TIMEOUT_S) for p in processes]
    elapsed = time.monotonic() - start
    assert [p.returncode != 0 for p in processes] == [True, True]
    assert "RuntimeError: deliberate failure on rank 1" in outputs[1][1]
    assert elapsed < 60
