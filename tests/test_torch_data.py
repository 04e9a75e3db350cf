"""torch data as fit/evaluate/predict sources (issue 16): DataLoader, map-style Dataset, IterableDataset.

References: the same model trained on the same rows through kerasish's array path (itself pinned against
Keras elsewhere), hand-written torch loops, and sample ids carried in the first feature (InputRecorder).
"""
import warnings

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader, Dataset, IterableDataset, Sampler, TensorDataset

from kerasish.callbacks import BackupAndRestore, Callback
from kerasish.layers import Dense, Input, TorchModule, concatenate
from kerasish.models import Model, Sequential
from kerasish.optimizers import SGD
from kerasish.utils import Sequence
from kerasish.training.data_adapters.order import epoch_order

from helpers import InputRecorder

N, FEATURES = 26, 3  # 26 rows: batches of 8 leave a last batch of 2


def arrays(n=N):
    rng = np.random.RandomState(0)
    x = rng.randn(n, FEATURES).astype("float32")
    x[:, 0] = np.arange(n)  # first feature = sample id, read back by InputRecorder
    y = rng.randn(n, 2).astype("float32")
    w = rng.uniform(0.5, 2.0, n).astype("float32")
    return x, y, w


def model(seed=0, recorder=None):
    torch.manual_seed(seed)  # the same initial weights (and shuffle seed) for every model of a test
    first = [TorchModule(recorder, input_shape=(FEATURES,)), Dense(4, activation="tanh")] if recorder is not None \
        else [Dense(4, activation="tanh", input_shape=(FEATURES,))]
    net = Sequential(first + [Dense(2)])
    net.compile(SGD(lr=0.01), "mse", metrics=["mae"])
    return net


def assert_same_weights(a, b, atol=1e-6):
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_allclose(wa, wb, rtol=0, atol=atol)


def tensors(*arrays_):
    return TensorDataset(*map(torch.from_numpy, arrays_))


class Rows(Dataset):
    """A map-style Dataset of ``(x, y)`` NumPy rows that counts how it is read."""

    def __init__(self, x, y, batched=True):
        self.x, self.y = x, y
        self.getitem_calls, self.getitems_calls = 0, 0
        if batched:
            self.__getitems__ = self._getitems

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        self.getitem_calls += 1
        return self.x[i], self.y[i]

    def _getitems(self, indices):
        self.getitems_calls += 1
        return [(self.x[i], self.y[i]) for i in indices]


class Stream(IterableDataset):
    """An IterableDataset without a length: ``rows`` samples, then it ends."""

    def __init__(self, x, y, rows=None):
        self.x, self.y, self.rows = x, y, len(x) if rows is None else rows

    def __iter__(self):
        for i in range(self.rows):
            yield self.x[i % len(self.x)], self.y[i % len(self.y)]


class StepCounter(Callback):
    def __init__(self):
        super().__init__()
        self.steps = []

    def on_epoch_begin(self, epoch, logs=None):
        self.steps.append(0)

    def on_train_batch_end(self, batch, logs=None):
        self.steps[-1] += 1


# ---------------------------------------------------------------------------- a user's DataLoader
def test_dataloader_trains_like_the_array_path_one_loader_batch_per_step():
    x, y, _ = arrays()
    reference = model()
    reference.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    trained, counter = model(), StepCounter()
    history = trained.fit(DataLoader(tensors(x, y), batch_size=8), epochs=2, verbose=0, callbacks=[counter])
    assert counter.steps == [4, 4]  # len(loader): 26 rows in batches of 8
    assert list(history.history) == ["loss", "mae"]
    assert_same_weights(trained, reference)


def test_dataloader_batches_arrive_in_the_loaders_own_order_every_epoch():
    x, y, _ = arrays()
    recorder = InputRecorder()
    net = model(recorder=recorder)
    loader = DataLoader(tensors(x, y), batch_size=8, shuffle=True, generator=torch.Generator().manual_seed(5))
    net.fit(loader, epochs=2, verbose=0)
    same_loader = DataLoader(tensors(x, y), batch_size=8, shuffle=True, generator=torch.Generator().manual_seed(5))
    expected = [batch_x[:, 0].int().tolist() for _ in range(2) for batch_x, _ in same_loader]  # a plain loop
    assert recorder.ids == expected


def test_evaluate_and_predict_on_a_dataloader_equal_the_array_versions():
    x, y, w = arrays()
    net = model()
    loader = DataLoader(tensors(x, y, w), batch_size=5)
    np.testing.assert_allclose(net.evaluate(loader, verbose=0), net.evaluate(x, y, sample_weight=w, batch_size=5,
                                                                            verbose=0), rtol=1e-6)
    np.testing.assert_allclose(net.predict(DataLoader(tensors(x), batch_size=5)), net.predict(x), rtol=1e-6)
    np.testing.assert_allclose(net.predict_generator(loader), net.predict(x), rtol=1e-6)  # (x, y, w) batches


def test_sample_weights_as_the_third_element_weight_the_loss():
    x, y, w = arrays()
    reference = model()
    reference.fit(x, y, sample_weight=w, batch_size=8, epochs=1, shuffle=False, verbose=0)
    trained = model()
    trained.fit(DataLoader(tensors(x, y, w), batch_size=8), epochs=1, verbose=0)
    assert_same_weights(trained, reference)


class SetEpochSampler(Sampler):
    def __init__(self, n):
        self.n, self.epochs = n, []

    def set_epoch(self, epoch):
        self.epochs.append(epoch)

    def __iter__(self):
        return iter(range(self.n))

    def __len__(self):
        return self.n


def test_each_epoch_calls_the_samplers_set_epoch_with_its_number():
    x, y, _ = arrays()
    sampler = SetEpochSampler(N)
    model().fit(DataLoader(tensors(x, y), batch_size=8, sampler=sampler), epochs=4, initial_epoch=1, verbose=0)
    assert sampler.epochs == [1, 2, 3]


def test_a_dataloader_without_length_runs_each_epoch_until_it_is_exhausted():
    x, y, _ = arrays()
    counter = StepCounter()
    history = model().fit(DataLoader(Stream(x, y), batch_size=8), epochs=2, verbose=0, callbacks=[counter])
    assert counter.steps == [4, 4] and len(history.history["loss"]) == 2


def test_a_lenless_dataloader_with_steps_per_epoch_is_one_stream_and_warns_when_it_runs_out():
    x, y, _ = arrays()
    recorder = InputRecorder()
    with pytest.warns(UserWarning, match="ran out of data"):
        history = model(recorder=recorder).fit(DataLoader(Stream(x, y, rows=40), batch_size=8),
                                               steps_per_epoch=2, epochs=4, verbose=0)
    # 40 rows = 5 batches: epochs 0 and 1 take 2 each (one stream, not restarted), epoch 2 gets 1 and stops
    assert [b[0] for b in recorder.ids] == [0, 8, 16, 24, 32 % N]
    assert len(history.history["loss"]) == 3


def test_dict_batches_keyed_by_input_names_feed_a_two_input_model():
    x, y, _ = arrays()
    a, b = x[:, :2], x[:, 2:]

    def two_inputs():
        torch.manual_seed(0)
        in_a, in_b = Input((2,), name="a"), Input((1,), name="b")
        net = Model([in_a, in_b], Dense(2, name="out")(concatenate([in_a, in_b])))
        net.compile(SGD(lr=0.01), "mse")
        return net

    class Named(Dataset):
        def __len__(self):
            return N

        def __getitem__(self, i):
            return {"a": a[i], "b": b[i]}, {"out": y[i]}

    reference = two_inputs()
    reference.fit({"a": a, "b": b}, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    trained = two_inputs()
    trained.fit(Named(), batch_size=8, epochs=1, shuffle=False, verbose=0)
    assert_same_weights(trained, reference)


# ---------------------------------------------------------------------------- a map-style Dataset
def test_dataset_without_shuffle_gives_the_weights_of_the_array_path():
    x, y, _ = arrays()
    reference = model()
    reference.fit(x, y, batch_size=8, epochs=3, shuffle=False, verbose=0)
    trained = model()
    trained.fit(Rows(x, y), batch_size=8, epochs=3, shuffle=False, verbose=0)
    assert_same_weights(trained, reference)


def test_dataset_shuffle_follows_kerasishs_epoch_order_which_the_array_path_uses_too():
    x, y, _ = arrays()
    recorder = InputRecorder()
    net = model(recorder=recorder)
    net.fit(Rows(x, y), batch_size=8, epochs=2, verbose=0)
    seen = [i for batch in recorder.ids for i in batch]
    expected = [int(i) for e in range(2) for i in epoch_order(N, e, net._shuffle_seed, True, 8)]
    assert seen == expected
    assert sorted(seen[:N]) == list(range(N)) and seen[:N] != seen[N:]  # every row once an epoch, a new order
    reference = model()  # same seed: same order, same weights as arrays
    reference.fit(x, y, batch_size=8, epochs=2, verbose=0)
    assert_same_weights(net, reference)


def test_dataset_batches_are_gathered_with_getitems_when_the_dataset_has_it():
    x, y, _ = arrays()
    batched, single = Rows(x, y), Rows(x, y, batched=False)
    model().fit(batched, batch_size=8, epochs=1, verbose=0)
    model().fit(single, batch_size=8, epochs=1, verbose=0)
    assert batched.getitem_calls == 0 and batched.getitems_calls >= 4
    assert single.getitem_calls >= N


@pytest.mark.parametrize("workers, use_multiprocessing", [(0, False), (2, False), (2, True)])
def test_fit_generator_on_a_dataset_loads_alike_in_every_worker_mode(workers, use_multiprocessing):
    x, y, _ = arrays()
    reference = model()
    reference.fit(x, y, batch_size=32, epochs=2, verbose=0)  # Keras's default batch size
    trained = model()
    trained.fit_generator(tensors(x, y), epochs=2, verbose=0, workers=workers,
                          use_multiprocessing=use_multiprocessing)
    assert_same_weights(trained, reference)


def test_validation_data_may_be_a_dataset_or_a_dataloader():
    x, y, _ = arrays()
    x_val, y_val, _ = arrays(9)
    histories = []
    for validation in [(x_val, y_val), tensors(x_val, y_val), DataLoader(tensors(x_val, y_val), batch_size=4)]:
        histories.append(model().fit(x, y, batch_size=8, epochs=2, validation_data=validation, verbose=0).history)
    histories.append(model().fit(Rows(x, y), batch_size=8, epochs=2, validation_data=tensors(x_val, y_val),
                                 verbose=0).history)
    for history in histories[1:]:
        np.testing.assert_allclose(history["val_loss"], histories[0]["val_loss"], rtol=1e-5)


def test_evaluate_and_predict_on_a_dataset():
    x, y, _ = arrays()
    net = model()
    np.testing.assert_allclose(net.evaluate(Rows(x, y), batch_size=4, verbose=0),
                               net.evaluate(x, y, batch_size=4, verbose=0), rtol=1e-6)
    np.testing.assert_allclose(net.predict(tensors(x), batch_size=4), net.predict(x), rtol=1e-6)


def test_resume_with_initial_epoch_sees_the_batches_of_an_uninterrupted_run():
    x, y, _ = arrays()
    whole, resumed = InputRecorder(), InputRecorder()
    model(recorder=whole).fit(Rows(x, y), batch_size=8, epochs=3, steps_per_epoch=3, verbose=0)
    model(recorder=resumed).fit(Rows(x, y), batch_size=8, epochs=3, steps_per_epoch=3, initial_epoch=1,
                                verbose=0)
    assert resumed.ids == whole.ids[3:]  # epochs 1 and 2: windows of 3 batches across passes of 4


class RaiseAt(Callback):
    def __init__(self, epoch, batch):
        super().__init__()
        self.at, self.epoch = (epoch, batch), None

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if (self.epoch, batch) == self.at:
            raise RuntimeError("interrupted")


def test_backup_and_restore_with_a_dataset_ends_with_the_weights_of_an_uninterrupted_run(tmp_path):
    x, y, _ = arrays()
    uninterrupted = model()
    uninterrupted.fit(Rows(x, y), batch_size=8, epochs=3, verbose=0)
    with pytest.raises(RuntimeError, match="interrupted"):
        model().fit(Rows(x, y), batch_size=8, epochs=3, verbose=0,
                    callbacks=[BackupAndRestore(tmp_path / "backup", save_freq=2), RaiseAt(1, 2)])
    resumed = model(seed=9)  # other initial weights and shuffle seed: the backup restores both
    resumed.fit(Rows(x, y), batch_size=8, epochs=3, verbose=0, callbacks=[BackupAndRestore(tmp_path / "backup")])
    assert_same_weights(resumed, uninterrupted)


# ---------------------------------------------------------------------------- an IterableDataset
def test_iterable_dataset_is_batched_by_batch_size_and_each_epoch_runs_to_its_end():
    x, y, _ = arrays()
    reference = model()
    reference.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    trained, counter = model(), StepCounter()
    trained.fit(Stream(x, y), batch_size=8, epochs=2, verbose=0, callbacks=[counter])
    assert counter.steps == [4, 4]
    assert_same_weights(trained, reference)


def test_iterable_dataset_with_steps_per_epoch_warns_when_it_runs_out():
    x, y, _ = arrays()
    with pytest.warns(UserWarning, match="ran out of data"):
        history = model().fit(Stream(x, y), batch_size=8, steps_per_epoch=3, epochs=3, verbose=0)
    assert len(history.history["loss"]) == 2  # 4 batches: epoch 0 takes 3, epoch 1 gets 1


# ---------------------------------------------------------------------------- errors
@pytest.mark.parametrize("call, message", [
    (lambda net, d: net.fit(DataLoader(d, batch_size=4), batch_size=4, verbose=0),
     "Do not specify the `batch_size` if your input data `x` is a torch DataLoader"),
    (lambda net, d: net.evaluate(DataLoader(d, batch_size=4), batch_size=4, verbose=0), "batch_size=4 here"),
    (lambda net, d: net.fit(DataLoader(d, batch_size=4), shuffle="batch", verbose=0), "shuffle='batch'"),
    (lambda net, d: net.fit(DataLoader(d, shuffle=True), shuffle=False, verbose=0),
     "shuffle=False cannot stop a torch DataLoader built with shuffle=True"),
    (lambda net, d: net.fit(d, np.zeros((N, 2)), verbose=0),
     "When providing `x` as a torch Dataset, `y` should not be passed"),
    (lambda net, d: net.evaluate(DataLoader(d), sample_weight=np.ones(N), verbose=0),
     "`sample_weight` should not be passed. Instead, the sample weights should be included"),
    (lambda net, d: net.fit(d, validation_split=0.2, verbose=0), "`validation_split` is only supported for arrays"),
    (lambda net, d: net.fit(d, shuffle="yes", verbose=0), "shuffle must be True, False or 'batch'"),
])
def test_arguments_that_cannot_apply_to_torch_data_are_errors_that_say_why(call, message):
    x, y, _ = arrays()
    net = model()
    before = [w.copy() for w in net.get_weights()]
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace("[", r"\[")):
        call(net, tensors(x, y))
    for a, b in zip(before, net.get_weights()):
        np.testing.assert_array_equal(a, b)  # raised before any weight changed


def test_a_dataset_of_the_wrong_structure_is_keras_s_generator_error():
    x, _, _ = arrays()
    with pytest.raises(ValueError, match=r"Output of generator should be a tuple `\(x, y, sample_weight\)`"):
        model().fit(tensors(x), verbose=0)


def test_a_batch_of_the_wrong_shape_is_keras_s_input_error():
    with pytest.raises(ValueError, match="expected dense_.* to have shape|Error when checking input"):
        net = model()
        net.build((None, FEATURES))
        net.fit(tensors(np.zeros((8, 5), "float32"), np.zeros((8, 2), "float32")), verbose=0)


def test_no_warning_for_a_dataloader_in_a_single_process():
    x, y, _ = arrays()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model().fit(DataLoader(tensors(x, y), batch_size=8), epochs=1, verbose=0)


# ---------------------------------------------------------------------------- the way back: Sequence -> torch
class PairSequence(Sequence):
    def __init__(self, x, y, batch_size=8):
        self.x, self.y, self.batch_size, self.epoch_ends = x, y, batch_size, 0

    def __len__(self):
        return int(np.ceil(len(self.x) / self.batch_size))

    def __getitem__(self, i):
        rows = slice(i * self.batch_size, (i + 1) * self.batch_size)
        return self.x[rows] * (1 + self.epoch_ends), self.y[rows]

    def on_epoch_end(self):
        self.epoch_ends += 1


def test_a_sequence_as_torch_dataset_serves_its_batches_as_tensors_to_a_plain_dataloader():
    x, y, _ = arrays()
    sequence = PairSequence(x, y)
    dataset = sequence.as_torch_dataset()
    assert isinstance(dataset, Dataset) and len(dataset) == 4
    batches = list(DataLoader(dataset, batch_size=None))
    assert [tuple(b[0].shape) for b in batches] == [(8, 3)] * 3 + [(2, 3)]
    np.testing.assert_array_equal(torch.cat([b[0] for b in batches]).numpy(), x)
    dataset.set_epoch(2)  # two epochs on: on_epoch_end twice
    assert sequence.epoch_ends == 2
    np.testing.assert_array_equal(dataset[0][0].numpy(), 3 * x[:8])
    with pytest.raises(IndexError):
        dataset[4]


def test_an_image_iterator_as_torch_dataset_gives_the_iterators_batches_also_from_worker_processes():
    from kerasish.preprocessing.image import ImageDataGenerator
    rng = np.random.RandomState(2)
    images, labels = rng.uniform(0, 255, (10, 6, 6, 1)).astype("float32"), np.arange(10)
    iterator = ImageDataGenerator(rotation_range=30, horizontal_flip=True).flow(images, labels, batch_size=4,
                                                                                 seed=7)
    dataset = iterator.as_torch_dataset()
    dataset.set_epoch(1)
    from_workers = list(DataLoader(dataset, batch_size=None, num_workers=2))
    reference = ImageDataGenerator(rotation_range=30, horizontal_flip=True).flow(images, labels, batch_size=4,
                                                                                  seed=7)
    reference.on_epoch_end()  # epoch 1: its order and augmentation
    for i, (batch_x, batch_y) in enumerate(from_workers):
        expected_x, expected_y = reference[i]
        np.testing.assert_allclose(batch_x.numpy(), expected_x, rtol=0, atol=1e-5)
        np.testing.assert_array_equal(batch_y.numpy(), expected_y)


def test_fit_on_a_dataloader_over_as_torch_dataset_equals_fit_generator_on_the_sequence():
    x, y, _ = arrays()
    reference = model()
    reference.fit_generator(PairSequence(x, y), epochs=1, shuffle=False, verbose=0)
    trained = model()
    trained.fit(DataLoader(PairSequence(x, y).as_torch_dataset(), batch_size=None), epochs=1, verbose=0)
    assert_same_weights(trained, reference)
    again = model()
    again.fit(PairSequence(x, y).as_torch_dataset(), epochs=1, shuffle=False, verbose=0)  # the Sequence itself
    assert_same_weights(again, reference)


# ---------------------------------------------------------------------------- torchvision datasets and transforms
def conv_net(classes):
    from kerasish.layers import Conv2D, Flatten
    torch.manual_seed(0)
    net = Sequential([Conv2D(2, (3, 3), data_format="channels_first", input_shape=(3, 8, 8)), Flatten(),
                      Dense(classes, activation="softmax")])
    net.compile(SGD(lr=0.05), "sparse_categorical_crossentropy", metrics=["accuracy"])
    return net


def test_an_imagefolder_with_a_transforms_v2_pipeline_trains_like_its_images_as_arrays(tmp_path):
    from PIL import Image
    from torchvision.datasets import ImageFolder
    from torchvision.transforms import v2
    rng = np.random.RandomState(4)
    for label in ("cat", "dog"):
        (tmp_path / label).mkdir()
        for i in range(5):
            pixels = rng.randint(0, 256, (10, 12, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(tmp_path / label / f"{i}.png")
    transform = v2.Compose([v2.ToImage(), v2.Resize((8, 8), antialias=True), v2.ToDtype(torch.float32, scale=True),
                            v2.Normalize([0.5] * 3, [0.25] * 3)])
    folder = ImageFolder(str(tmp_path), transform=transform)
    x = np.stack([folder[i][0].numpy() for i in range(len(folder))])  # the same pipeline, applied one by one
    y = np.array([folder[i][1] for i in range(len(folder))])
    assert x.shape == (10, 3, 8, 8) and y.tolist() == [0] * 5 + [1] * 5
    reference = conv_net(2)
    reference.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0)
    trained, counter = conv_net(2), StepCounter()
    trained.fit(folder, batch_size=4, epochs=2, shuffle=False, verbose=0, callbacks=[counter])
    assert counter.steps == [3, 3]
    assert_same_weights(trained, reference, atol=1e-5)
    np.testing.assert_allclose(trained.predict(DataLoader(folder, batch_size=4, num_workers=2)), trained.predict(x),
                               rtol=0, atol=1e-5)


def test_a_cifar10_style_dataset_with_random_v2_augmentation_in_a_dataloader_with_workers():
    from torchvision.datasets import FakeData
    from torchvision.transforms import v2
    augment = v2.Compose([v2.ToImage(), v2.RandomHorizontalFlip(), v2.RandomCrop(8, padding=1),
                          v2.ToDtype(torch.float32, scale=True)])
    train = FakeData(size=20, image_size=(3, 8, 8), num_classes=10, transform=augment, random_offset=0)
    loader = DataLoader(train, batch_size=8, shuffle=True, num_workers=2, persistent_workers=True)
    net, counter = conv_net(10), StepCounter()
    history = net.fit(loader, epochs=2, verbose=0, callbacks=[counter],
                      validation_data=FakeData(size=6, image_size=(3, 8, 8), num_classes=10, random_offset=1,
                                               transform=v2.Compose([v2.ToImage(),
                                                                     v2.ToDtype(torch.float32, scale=True)])))
    assert counter.steps == [3, 3] and list(history.history) == ["val_loss", "val_accuracy", "loss", "accuracy"]
    assert all(np.isfinite(history.history["loss"]))


def test_getitems_may_return_the_whole_batch_which_is_then_used_as_it_is():
    x, y, _ = arrays()

    class Gathered(Dataset):
        def __len__(self):
            return N

        def __getitem__(self, i):
            raise AssertionError("rows are gathered a batch at a time")

        def __getitems__(self, indices):
            index = torch.as_tensor(indices)
            return torch.from_numpy(x)[index], torch.from_numpy(y)[index]

    reference = model()
    reference.fit(x, y, batch_size=8, epochs=2, verbose=0)
    trained = model()
    trained.fit(Gathered(), batch_size=8, epochs=2, verbose=0)
    assert_same_weights(trained, reference)


def test_class_weight_weights_each_dataloader_sample_by_its_class():
    x, y, _ = arrays()
    onehot = np.eye(2, dtype="float32")[(x[:, 1] > 0).astype(int)]
    reference = model()
    reference.fit(x, onehot, batch_size=8, epochs=1, shuffle=False, class_weight={0: 0.5, 1: 3.0}, verbose=0)
    trained = model()
    trained.fit(DataLoader(tensors(x, onehot), batch_size=8), epochs=1, class_weight={0: 0.5, 1: 3.0}, verbose=0)
    assert_same_weights(trained, reference)
    unweighted = model()
    unweighted.fit(DataLoader(tensors(x, onehot), batch_size=8), epochs=1, verbose=0)
    assert not np.allclose(unweighted.get_weights()[0], trained.get_weights()[0])


@pytest.mark.parametrize("data, message", [
    (TensorDataset(torch.zeros(0, FEATURES), torch.zeros(0, 2)), "fit_generator: the torch Dataset is empty"),
    (DataLoader(TensorDataset(torch.zeros(0, FEATURES), torch.zeros(0, 2))), "the torch DataLoader is empty"),
    (DataLoader(Stream(np.zeros((1, FEATURES)), np.zeros((1, 2)), rows=0)), "the torch DataLoader yields no batch"),
])
def test_empty_torch_data_is_a_clear_error(data, message):
    with pytest.raises(ValueError, match=message):
        model().fit(data, verbose=0)


def test_a_torchvision_dataset_without_a_tensor_transform_is_an_error_that_says_what_to_add():
    from torchvision.datasets import FakeData
    with pytest.raises(TypeError, match=r"cannot be batched: .*PIL.*add transform=v2.Compose\(\[v2.ToImage\(\)"):
        conv_net(10).fit(FakeData(size=4, image_size=(3, 8, 8)), verbose=0)


def test_a_validation_dataset_is_batched_by_fits_batch_size_also_when_x_is_a_dataset():
    x, y, _ = arrays()
    x_val, y_val, _ = arrays(9)
    validation = Rows(x_val, y_val)
    model().fit(Rows(x, y), batch_size=4, epochs=1, validation_data=validation, verbose=0)
    assert validation.getitems_calls == 3  # 9 rows in batches of 4 (Keras's default 32 would be 1 call)


class SyncsAreErrorsAfterFirstStep(Callback):
    """After the first step (which builds the model and checks its batch), any host-device sync raises."""

    def on_train_batch_end(self, batch, logs=None):
        torch.cuda.set_sync_debug_mode("error")

    def on_epoch_end(self, epoch, logs=None):
        torch.cuda.set_sync_debug_mode("default")

    def on_epoch_begin(self, epoch, logs=None):
        if epoch:
            torch.cuda.set_sync_debug_mode("error")

    def on_train_end(self, logs=None):
        torch.cuda.set_sync_debug_mode("default")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
@pytest.mark.parametrize("source", ["loader", "dataset"])
def test_on_cuda_pinned_batches_are_copied_without_host_syncs_and_train_like_arrays(source):
    from kerasish import backend
    x, y, _ = arrays()
    backend.set_device("cuda")
    try:
        reference = model()
        reference.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
        data = DataLoader(tensors(x, y), batch_size=8, pin_memory=True) if source == "loader" else tensors(x, y)
        trained = model()
        trained.fit(data, epochs=2, shuffle=False, verbose=0, callbacks=[SyncsAreErrorsAfterFirstStep()],
                    **({} if source == "loader" else {"batch_size": 8}))
    finally:
        torch.cuda.set_sync_debug_mode("default")
        backend.set_device(None)
    assert_same_weights(trained, reference, atol=1e-5)


@pytest.mark.parametrize("device, expected", [
    # an accelerator: batch i+1 is prepared (its non_blocking copy queued) before step i runs
    ("cuda", ["prepare 0", "prepare 1", "step 0", "prepare 2", "step 1", "step 2"]),
    # the CPU: nothing to overlap, each batch is prepared when its step comes
    ("cpu", ["prepare 0", "step 0", "prepare 1", "step 1", "prepare 2", "step 2"]),
])
def test_batches_are_prepared_a_step_early_only_on_an_accelerator(device, expected):
    from kerasish.training.data_adapters.torch_data import prepared
    events = []

    def prepare(batch):
        events.append(f"prepare {batch[0]}")
        return batch

    # a device object is enough: prepared() only reads its type, nothing runs on it
    for batch in prepared(iter([[0], [1], [2]]), prepare, torch.device(device)):
        events.append(f"step {batch[0]}")
    assert events == expected
