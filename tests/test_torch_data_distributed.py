"""torch data under torchrun (issue 16), with 2 CPU processes on gloo: a Dataset is sharded as arrays are (the
same weights as one process with the same global batch and order); a user's DataLoader is used as given, with
a warning when it has no DistributedSampler. The launch follows tests/test_distributed.py."""
from __future__ import annotations

import os
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from torch.utils.data import TensorDataset

import _distributed_worker as worker
import _torch_data_worker as data_worker

ROOT = Path(__file__).resolve().parents[1]
LAUNCH_TIMEOUT_S = 120  # a hung job fails the test instead of the CI run


@pytest.fixture(scope="module")
def ranks(tmp_path_factory):
    out_dir = tmp_path_factory.mktemp("torchdata_ddp")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
               OMP_NUM_THREADS="1", KERASISH_DIST_TIMEOUT="30")
    env.pop("KERASISH_DEVICE", None)
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
               str(Path(data_worker.__file__)), str(out_dir)]
    job = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=LAUNCH_TIMEOUT_S)
    assert job.returncode == 0, job.stdout + job.stderr
    return [pickle.loads((out_dir / f"rank{rank}.pkl").read_bytes()) for rank in range(2)]


def test_a_dataset_on_two_processes_trains_like_one_process_with_the_same_global_batch(ranks):
    rank0, rank1 = ranks[0]["dataset"], ranks[1]["dataset"]
    for a, b in zip(rank0["weights"], rank1["weights"]):
        np.testing.assert_array_equal(a, b)
    _, _, _, x_val, y_val = worker.arrays()
    model = worker.mlp(weight_seed=100)  # rank 0's initial weights, which DDP broadcast
    model._shuffle_seed = rank0["seed"]  # the order every rank used (rank 0's seed)
    history = model.fit(data_worker.dataset(), batch_size=worker.BATCH_SIZE, epochs=worker.EPOCHS, shuffle=True,
                        verbose=0, validation_data=TensorDataset(torch.from_numpy(x_val), torch.from_numpy(y_val)))
    for a, b in zip(rank0["weights"], model.get_weights()):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-5)
    for key in history.history:
        np.testing.assert_allclose(rank0["history"][key], history.history[key], rtol=0, atol=1e-5, err_msg=key)
    # predict: every row, in order, on every rank
    expected = model.predict(data_worker.dataset(with_weights=False), batch_size=worker.BATCH_SIZE)
    for rank in ranks:
        np.testing.assert_allclose(rank["dataset"]["predict"], expected, rtol=0, atol=1e-5)


def test_a_dataloader_without_distributed_sampler_is_warned_about_once_on_rank_zero(ranks):
    warnings0, warnings1 = ranks[0]["loader_warnings"], ranks[1]["loader_warnings"]
    assert len(warnings0) == 1 and warnings1 == []
    assert "every sample is seen 2 times per epoch" in warnings0[0]
    assert "sampler=torch.utils.data.distributed.DistributedSampler(dataset)" in warnings0[0]


def test_a_distributed_sampler_gets_set_epoch_each_epoch_and_no_warning(ranks):
    for rank in ranks:
        assert rank["sampler"]["epochs"] == [1, 2] and rank["sampler"]["warnings"] == []
    rows0, rows1 = ranks[0]["sampler"]["rows"], ranks[1]["sampler"]["rows"]
    # the ranks split the 81 rows, 41 each (DistributedSampler repeats one row to even them out)
    assert len(rows0) == len(rows1) == 41 and set(rows0) | set(rows1) == set(range(81))
