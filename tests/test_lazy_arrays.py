"""fit/evaluate/predict on data that stays on disk: memory maps and HDF5-like arrays, read batch by batch."""
import numpy as np
import torch

from kerasish.layers import Dense
from kerasish.models import Sequential


class H5LikeDataset:
    """What h5py.Dataset offers (shape, dtype, len, fancy indexing with increasing indices), and a record of
    the largest read."""

    def __init__(self, array):
        self._array = array
        self.shape, self.dtype = array.shape, array.dtype
        self.largest_read = 0

    def __len__(self):
        return len(self._array)

    def __getitem__(self, index):
        rows = np.arange(len(self))[index]
        rows = np.atleast_1d(rows)
        if len(rows) > 1 and np.any(np.diff(rows) <= 0):
            raise TypeError("Indexing elements must be in increasing order")  # h5py's rule
        self.largest_read = max(self.largest_read, len(rows))
        return self._array[index]


def data(n=100):
    rng = np.random.RandomState(0)
    x = rng.randn(n, 6).astype("float32")
    return x, (x[:, 0] > 0).astype("float32")[:, None]


def trained(x, y, **fit_kwargs):
    torch.manual_seed(0)
    model = Sequential([Dense(4, activation="relu", input_dim=6), Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["acc"])
    history = model.fit(x, y, batch_size=16, epochs=2, verbose=0, **fit_kwargs)
    return model, history


def test_a_read_only_memory_map_trains_exactly_like_the_array_it_holds(tmp_path):
    x, y = data()
    np.save(tmp_path / "x.npy", x)
    mapped = np.load(tmp_path / "x.npy", mmap_mode="r")
    in_memory, h1 = trained(x, y, validation_split=0.2)
    on_disk, h2 = trained(mapped, y, validation_split=0.2)
    assert h1.history == h2.history
    for a, b in zip(in_memory.get_weights(), on_disk.get_weights()):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(on_disk.predict(mapped), on_disk.predict(x))
    assert on_disk.evaluate(mapped, y, verbose=0) == on_disk.evaluate(x, y, verbose=0)


def test_an_hdf5_like_dataset_is_read_one_sorted_batch_at_a_time():
    x, y = data()
    h5 = H5LikeDataset(x)
    model, history = trained(h5, y, validation_split=0.25)
    assert h5.largest_read <= 16
    reference, ref_history = trained(x, y, validation_split=0.25)
    assert history.history == ref_history.history
    assert model.predict(h5, batch_size=10).shape == (100, 1)
    assert h5.largest_read <= 16
