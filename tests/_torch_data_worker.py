"""One replica of the torchrun tests of torch data (tests/test_torch_data_distributed.py), run by torchrun:

    python -m torch.distributed.run --standalone --nproc_per_node=2 tests/_torch_data_worker.py OUT_DIR

Each rank writes what it saw to ``OUT_DIR/rank<r>.pkl`` (a plain pickle: test data, not a library file). Data
and models come from tests/_distributed_worker.py, which the test also imports for its one-process references.
"""
from __future__ import annotations

import os
import pickle
import sys
import warnings

import torch
from torch.utils.data import DataLoader, TensorDataset
from torch.utils.data.distributed import DistributedSampler

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _distributed_worker import BATCH_SIZE, EPOCHS, arrays, mlp  # noqa: E402


def dataset(with_weights: bool = True) -> TensorDataset:
    x, y, sample_weight, _, _ = arrays()
    parts = (x, y, sample_weight) if with_weights else (x, y)
    return TensorDataset(*map(torch.from_numpy, parts))


class RecordingSampler(DistributedSampler):
    def __init__(self, data):
        super().__init__(data, shuffle=True, seed=3)
        self.epochs = []

    def set_epoch(self, epoch):
        self.epochs.append(epoch)
        super().set_epoch(epoch)


def main() -> None:
    out_dir = sys.argv[1]
    rank = int(os.environ["RANK"])
    result = {}

    # a map-style Dataset: sharded as arrays, global batch 16 split 8/8, the last batch of 1 row 1/0
    _, _, _, x_val, y_val = arrays()
    model = mlp(weight_seed=100 + rank)
    history = model.fit(dataset(), batch_size=BATCH_SIZE, epochs=EPOCHS, shuffle=True, verbose=0,
                        validation_data=TensorDataset(torch.from_numpy(x_val), torch.from_numpy(y_val)))
    result["dataset"] = dict(seed=model._shuffle_seed, weights=model.get_weights(), history=history.history,
                             predict=model.predict(dataset(with_weights=False), batch_size=BATCH_SIZE))

    # a user's DataLoader without a DistributedSampler: warned about once, on rank 0
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(2):
            mlp(weight_seed=0).fit(DataLoader(dataset(), batch_size=8), epochs=1, verbose=0)
    result["loader_warnings"] = [str(w.message) for w in caught if "DistributedSampler" in str(w.message)]

    # with one: no warning, set_epoch every epoch, each rank its half of the rows
    sampler = RecordingSampler(dataset())
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = mlp(weight_seed=0)
        model.fit(DataLoader(dataset(), batch_size=8, sampler=sampler), epochs=3, initial_epoch=1, verbose=0)
    result["sampler"] = dict(epochs=sampler.epochs, rows=list(sampler),
                             warnings=[str(w.message) for w in caught if "DistributedSampler" in str(w.message)])
    with open(os.path.join(out_dir, f"rank{rank}.pkl"), "wb") as f:
        pickle.dump(result, f)


if __name__ == "__main__":
    main()
