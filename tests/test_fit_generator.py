"""fit_generator / evaluate_generator / predict_generator with Keras 2.3.1 semantics."""
import gc
import multiprocessing
import re
import threading
import traceback
import tracemalloc

import numpy as np
import pytest
import torch

from kerasish.callbacks import Callback
from kerasish.layers import Dense, TorchModule
from kerasish.models import Sequential
from kerasish.optimizers import SGD
from kerasish.utils import Sequence, to_categorical

from helpers import InputRecorder, InterruptAtBatch, assert_loaders_stopped

N, FEATURES, CLASSES = 24, 3, 2


def arrays():
    rng = np.random.RandomState(0)
    x = rng.randn(N, FEATURES).astype("float32")
    x[:, 0] = np.arange(N)  # first feature = sample id, recorded by IdRecorder
    return x, to_categorical(np.arange(N) % CLASSES, CLASSES)


def model_with_recorder(lr=0.0):
    recorder = InputRecorder()
    model = Sequential([TorchModule(recorder, input_shape=(FEATURES,)), Dense(CLASSES, activation="softmax")])
    model.compile(optimizer=SGD(lr=lr), loss="categorical_crossentropy", metrics=["accuracy"])
    return model, recorder


class BatchSequence(Sequence):
    def __init__(self, x, y, batch_size=4):
        self.x, self.y, self.batch_size = x, y, batch_size
        self.epoch_ends = 0

    def __len__(self):
        return int(np.ceil(len(self.x) / self.batch_size))

    def __getitem__(self, i):
        s = slice(i * self.batch_size, (i + 1) * self.batch_size)
        return self.x[s], self.y[s]

    def on_epoch_end(self):
        self.epoch_ends += 1


def finite_generator(x, y, batches, batch_size=4):
    for i in range(batches):
        s = slice((i * batch_size) % len(x), (i * batch_size) % len(x) + batch_size)
        yield x[s], y[s]


def endless_generator(x, y, batch_size=4):
    i = 0
    while True:
        s = slice(i, i + batch_size)
        yield x[s], y[s]
        i = (i + batch_size) % len(x)


# ------------------------------------------------------------------------------------------ steps
def test_sequence_steps_default_to_len_and_each_batch_is_seen_once_in_order():
    x, y = arrays()
    seq = BatchSequence(x, y)
    model, recorder = model_with_recorder()
    history = model.fit_generator(seq, epochs=2, verbose=0, shuffle=False)
    assert recorder.ids == [list(range(i, i + 4)) for i in range(0, 24, 4)] * 2
    assert seq.epoch_ends == 2
    assert list(history.history) == ["loss", "accuracy"]


def test_sequence_wraps_around_when_steps_per_epoch_exceeds_its_length():
    x, y = arrays()
    seq = BatchSequence(x, y)  # 6 batches
    model, recorder = model_with_recorder()
    model.fit_generator(seq, steps_per_epoch=4, epochs=3, verbose=0, shuffle=False)
    firsts = [batch[0] for batch in recorder.ids]
    assert firsts == [0, 4, 8, 12, 16, 20, 0, 4, 8, 12, 16, 20]
    assert seq.epoch_ends == 2  # after each full pass, as Keras 2.3.1's OrderedEnqueuer


def test_shuffle_visits_every_sequence_batch_once_per_epoch():
    x, y = arrays()
    model, recorder = model_with_recorder()
    model.fit_generator(BatchSequence(x, y), epochs=2, verbose=0, shuffle=True)
    for epoch in range(2):
        batches = recorder.ids[epoch * 6:(epoch + 1) * 6]
        assert sorted(b[0] for b in batches) == [0, 4, 8, 12, 16, 20]


def test_plain_generator_needs_steps_per_epoch():
    x, y = arrays()
    model, _ = model_with_recorder()
    with pytest.raises(ValueError, match=r"`steps_per_epoch=None` is only valid for a generator based on the "
                                         r"`keras.utils.Sequence` class"):
        model.fit_generator(endless_generator(x, y), epochs=1, verbose=0)


def test_generator_yielding_the_wrong_structure_is_a_clear_error():
    model, _ = model_with_recorder()

    def bad():
        while True:
            yield np.zeros((4, FEATURES), "float32")

    with pytest.raises(ValueError, match=r"Output of generator should be a tuple `\(x, y, sample_weight\)` or "
                                         r"`\(x, y\)`. Found: ndarray of shape \(4, 3\)"):
        model.fit_generator(bad(), steps_per_epoch=2, verbose=0)


def test_finite_generator_that_runs_out_warns_and_ends_training_keeping_the_weights():
    x, y = arrays()
    model, recorder = model_with_recorder(lr=0.5)
    before = model.get_weights()
    with pytest.warns(UserWarning, match=r"Your input ran out of data; interrupting training. .* \(in this case, "
                                         r"15 batches\)"):
        history = model.fit_generator(finite_generator(x, y, batches=7), steps_per_epoch=3, epochs=5, verbose=0)
    assert len(recorder.ids) == 7
    assert history.epoch == [0, 1, 2]  # the third epoch got one batch, then the data ended
    assert not np.allclose(before[-2], model.get_weights()[-2])


# ------------------------------------------------------------------------------------------ loading
@pytest.mark.parametrize("workers, use_multiprocessing", [(0, False), (1, False), (3, False), (2, True)])
def test_sequence_items_arrive_exactly_once_per_epoch_in_order_for_every_loading_mode(workers, use_multiprocessing):
    x, y = arrays()
    model, recorder = model_with_recorder()
    model.fit_generator(BatchSequence(x, y), epochs=2, verbose=0, shuffle=False, workers=workers,
                        use_multiprocessing=use_multiprocessing)
    assert recorder.ids == [list(range(i, i + 4)) for i in range(0, 24, 4)] * 2


def test_non_thread_safe_generator_with_several_thread_workers_is_pulled_safely():
    x, y = arrays()
    model, recorder = model_with_recorder()
    model.fit_generator(finite_generator(x, y, batches=12), steps_per_epoch=6, epochs=2, workers=4, verbose=0)
    firsts = [b[0] for b in recorder.ids]
    assert firsts == [0, 4, 8, 12, 16, 20] * 2  # nothing duplicated, nothing lost, order kept


def test_plain_generator_with_several_processes_warns_and_does_not_duplicate():
    x, y = arrays()
    model, recorder = model_with_recorder()
    with pytest.warns(UserWarning, match="would duplicate your data"):
        model.fit_generator(finite_generator(x, y, batches=6), steps_per_epoch=6, epochs=1, workers=3,
                            use_multiprocessing=True, verbose=0)
    assert [b[0] for b in recorder.ids] == [0, 4, 8, 12, 16, 20]


def raising_generator(x, y):
    yield x[:4], y[:4]
    raise RuntimeError("broken batch source")


@pytest.mark.parametrize("workers, use_multiprocessing", [(0, False), (1, False)])
def test_a_generator_exception_reaches_the_caller_with_its_traceback(workers, use_multiprocessing):
    x, y = arrays()
    model, _ = model_with_recorder()
    with pytest.raises(RuntimeError, match="broken batch source") as info:
        model.fit_generator(raising_generator(x, y), steps_per_epoch=3, epochs=1, verbose=0, workers=workers,
                            use_multiprocessing=use_multiprocessing)
    frames = [frame.name for frame in traceback.extract_tb(info.value.__traceback__)]
    assert "raising_generator" in frames


class FailingSequence(BatchSequence):
    def __getitem__(self, i):
        if i == 2:
            raise KeyError("item 2 is missing")
        return super().__getitem__(i)


def test_a_sequence_exception_in_a_worker_process_surfaces_in_the_caller():
    x, y = arrays()
    model, _ = model_with_recorder()
    with pytest.raises(KeyError, match="item 2 is missing"):
        model.fit_generator(FailingSequence(x, y), epochs=1, verbose=0, workers=2, use_multiprocessing=True,
                            shuffle=False)
    assert multiprocessing.active_children() == []


def test_keyboard_interrupt_stops_cleanly_without_leftover_threads_or_processes():
    x, y = arrays()
    model, _ = model_with_recorder()

    threads_before = threading.active_count()
    with pytest.raises(KeyboardInterrupt):
        model.fit_generator(endless_generator(x, y), steps_per_epoch=50, epochs=1, verbose=0,
                            callbacks=[InterruptAtBatch(2)], workers=2)
    with pytest.raises(KeyboardInterrupt), pytest.warns(UserWarning, match="would duplicate your data"):
        model.fit_generator(endless_generator(x, y), steps_per_epoch=50, epochs=1, verbose=0,
                            callbacks=[InterruptAtBatch(2)], workers=2, use_multiprocessing=True)
    assert_loaders_stopped(threads_before)
    model.predict(x)  # the model is still usable


def test_an_interrupt_drops_the_queued_loads_instead_of_waiting_for_them():
    x, y = arrays()
    model, _ = model_with_recorder()
    loads = []

    class SlowSequence(BatchSequence):
        def __len__(self):
            return 40

        def __getitem__(self, i):
            loads.append(i)
            threading.Event().wait(0.05)
            return super().__getitem__(i % 6)

    with pytest.raises(KeyboardInterrupt):
        model.fit_generator(SlowSequence(x, y), epochs=1, verbose=0, workers=2, max_queue_size=30,
                            callbacks=[InterruptAtBatch(1)])
    # 2 batches trained, a few more loading at that moment; not the 30 that were queued
    assert len(loads) < 12, loads


# ------------------------------------------------------------------------------------------ memory
class EpochEndCensus(Callback):
    """At some epoch ends: Python-level memory allocated since the first of them (NumPy arrays included: NumPy
    reports to tracemalloc; tracing starts there, after the warm-up), live torch tensors (their storage is
    invisible to tracemalloc) and threads."""

    def __init__(self, epochs):
        super().__init__()
        self.epochs = epochs
        self.bytes, self.tensors, self.threads = [], [], []

    def on_epoch_end(self, epoch, logs=None):
        if epoch not in self.epochs:
            return
        gc.collect()
        if not tracemalloc.is_tracing():
            tracemalloc.start()
        self.bytes.append(tracemalloc.get_traced_memory()[0])
        self.tensors.append(sum(1 for o in gc.get_objects() if issubclass(type(o), torch.Tensor)))
        self.threads.append(threading.active_count())

    def on_train_end(self, logs=None):
        tracemalloc.stop()


@pytest.mark.parametrize("source, workers", [("sequence", 0), ("sequence", 2), ("generator", 2), ("images", 1),
                                             ("image files", 2)])
def test_memory_tensors_and_threads_stay_flat_over_many_epochs(source, workers, tmp_path):
    from PIL import Image
    from kerasish.layers import Flatten
    from kerasish.preprocessing.image import ImageDataGenerator
    x, y = arrays()
    augmentation = ImageDataGenerator(rotation_range=20, horizontal_flip=True)
    if source.startswith("image"):
        images = np.random.RandomState(0).randint(0, 256, (N, 6, 6, 3)).astype("uint8")
        if source == "images":
            data = augmentation.flow(images, y, batch_size=4, seed=0)
        else:  # flow_from_directory: decoded by loader threads
            for i, image in enumerate(images):
                (tmp_path / str(i % CLASSES)).mkdir(exist_ok=True)
                Image.fromarray(image).save(tmp_path / str(i % CLASSES) / f"{i}.png")
            data = augmentation.flow_from_directory(str(tmp_path), target_size=(6, 6), batch_size=4, seed=0)
        model = Sequential([Flatten(input_shape=(6, 6, 3)), Dense(CLASSES, activation="softmax")])
    else:
        data = BatchSequence(x, y) if source == "sequence" else endless_generator(x, y)
        model = Sequential([Dense(CLASSES, activation="softmax", input_shape=(FEATURES,))])
    model.compile(optimizer="sgd", loss="categorical_crossentropy", metrics=["accuracy"])
    census = EpochEndCensus(epochs=(9, 29, 49))
    model.fit_generator(data, steps_per_epoch=6, epochs=50, verbose=0, workers=workers, callbacks=[census])
    # Once warm, only History (and a few torch caches) grow, by a few hundred bytes an epoch (about 150 over
    # hundreds of epochs); one leaked NumPy batch per step here would add about 2 kB an epoch.
    growth_per_epoch = (census.bytes[2] - census.bytes[1]) / 20
    assert growth_per_epoch < 1200, census.bytes
    assert max(census.tensors) == census.tensors[0], census.tensors
    assert max(census.threads) <= census.threads[0], census.threads


# ------------------------------------------------------------------------------------------ equivalences
def test_evaluate_and_predict_generator_equal_the_array_versions():
    x, y = arrays()
    model, _ = model_with_recorder()
    seq = BatchSequence(x, y)
    np.testing.assert_allclose(model.evaluate_generator(seq), model.evaluate(x, y, batch_size=4, verbose=0),
                               rtol=1e-6)
    np.testing.assert_allclose(model.predict_generator(seq), model.predict(x), rtol=1e-6)
    np.testing.assert_allclose(model.predict_generator((x[i:i + 4] for i in range(0, 24, 4)), steps=6),
                               model.predict(x), rtol=1e-6)


def test_fit_evaluate_and_predict_accept_generators_and_sequences_as_x():
    x, y = arrays()
    model, recorder = model_with_recorder()
    seq = BatchSequence(x, y)
    model.fit(seq, epochs=1, verbose=0, shuffle=False)
    assert len(recorder.ids) == 6
    assert model.evaluate(seq, verbose=0) == model.evaluate_generator(seq)
    assert model.predict(seq).shape == (N, CLASSES)
    with pytest.raises(ValueError, match="`y` argument is not supported when data is a generator"):
        model.fit(seq, y)
    with pytest.raises(ValueError, match="you cannot use `validation_split`"):
        model.fit(seq, validation_split=0.2)
    with pytest.raises(ValueError, match="The `batch_size` argument must not be specified"):
        model.fit(seq, batch_size=4)


def test_validation_data_may_be_a_generator_with_validation_steps():
    x, y = arrays()
    model, _ = model_with_recorder()
    history = model.fit_generator(BatchSequence(x, y), epochs=2, verbose=0,
                                  validation_data=endless_generator(x, y), validation_steps=6)
    expected = model.evaluate(x, y, batch_size=4, verbose=0)
    assert history.history["val_loss"][-1] == pytest.approx(expected[0], rel=1e-6)
    assert list(history.history) == ["val_loss", "val_accuracy", "loss", "accuracy"]


def test_fit_generator_with_tuple_validation_data():
    x, y = arrays()
    model, _ = model_with_recorder()
    history = model.fit_generator(BatchSequence(x, y), epochs=1, verbose=0, validation_data=(x[:8], y[:8]))
    assert history.history["val_loss"][0] == pytest.approx(model.evaluate(x[:8], y[:8], verbose=0)[0], rel=1e-6)


def test_class_weight_in_fit_generator_weights_each_sample_by_its_class():
    x, y = arrays()
    model, _ = model_with_recorder()  # lr=0: every batch sees the same weights
    class_weight = {0: 0.5, 1: 3.0}
    history = model.fit_generator(BatchSequence(x, y, batch_size=5), epochs=1, verbose=0, shuffle=False,
                                  class_weight=class_weight)
    # NumPy reference: cross-entropy of the softmax layer, each sample weighted by its class; a batch's loss is
    # the weighted sum over the batch size, the epoch's loss the mean of the batch losses weighted by batch
    # size (Keras 2.3.1). Batches of 5, 5, 5, 5, 4, each with both classes.
    kernel, bias = model.get_weights()
    logits = x.astype("float64") @ kernel + bias
    log_probs = logits - logits.max(axis=1, keepdims=True)
    log_probs -= np.log(np.exp(log_probs).sum(axis=1, keepdims=True))
    weighted = -(y * log_probs).sum(axis=1) * np.array([class_weight[c] for c in y.argmax(axis=1)])
    batch_losses = [weighted[start:start + 5].mean() for start in range(0, N, 5)]
    expected = np.average(batch_losses, weights=[len(weighted[start:start + 5]) for start in range(0, N, 5)])
    assert history.history["loss"][0] == pytest.approx(expected, rel=1e-5)


# ------------------------------------------------------------------------------------------ Keras 1 / output
def test_keras_1_argument_names_are_converted_with_a_warning():
    x, y = arrays()
    model, recorder = model_with_recorder()
    gen = endless_generator(x, y)
    with pytest.warns(UserWarning, match=r"Update your `fit_generator` call to the Keras 2 API"):
        history = model.fit_generator(gen, samples_per_epoch=3, nb_epoch=2, verbose=0)
    assert len(history.epoch) == 2 and len(recorder.ids) == 6


def test_fit_generator_accepts_at_most_three_positional_arguments():
    x, y = arrays()
    model, _ = model_with_recorder()
    with pytest.raises(TypeError, match="can accept only 3 positional arguments"):
        model.fit_generator(BatchSequence(x, y), 6, 1, 0)


def test_fit_generator_progress_bar_counts_steps(capsys):
    x, y = arrays()
    model, _ = model_with_recorder()
    history = model.fit_generator(BatchSequence(x, y), epochs=1, verbose=1)
    lines = [line for line in capsys.readouterr().out.splitlines() if line]
    assert lines[0] == "Epoch 1/1"
    h = history.history
    assert re.fullmatch(r"6/6 \[==============================\] - \d+s \d+[mu]?s/step - loss: \S+ - accuracy: \S+",
                        lines[-1])
    assert lines[-1].endswith(f"loss: {h['loss'][0]:.4f} - accuracy: {h['accuracy'][0]:.4f}")


def _thread_and_torch_threads():
    return threading.current_thread() is threading.main_thread(), torch.get_num_threads()


class ThreadCountSequence(BatchSequence):
    """Records torch's intra-op thread count of the thread that loads each item."""

    def __init__(self, x, y):
        super().__init__(x, y)
        self.loader_threads = []

    def __getitem__(self, i):
        self.loader_threads.append(_thread_and_torch_threads())
        return super().__getitem__(i)


@pytest.mark.parametrize("source", ["generator", "sequence", "torch dataset"])
def test_loader_threads_run_torch_on_one_thread_and_leave_the_steps_threads_alone(source):
    """A loader thread's torch ops on every core would oversubscribe the cores the training step's intra-op
    threads use (as torch's DataLoader workers, each loader thread uses one); the main thread keeps its own."""
    x, y = arrays()
    model, _ = model_with_recorder()
    seen = []

    def generator():
        while True:
            seen.append(_thread_and_torch_threads())
            yield x[:4], y[:4]

    class CountingDataset(torch.utils.data.Dataset):
        def __len__(self):
            return N

        def __getitem__(self, i):
            seen.append(_thread_and_torch_threads())
            return x[i], y[i]

    before = torch.get_num_threads()
    torch.set_num_threads(2)  # so that one thread in the loader differs from the main thread's count
    try:
        if source == "generator":
            model.fit_generator(generator(), steps_per_epoch=3, epochs=1, workers=1, verbose=0)
        elif source == "sequence":
            sequence = ThreadCountSequence(x, y)
            model.fit_generator(sequence, epochs=1, workers=2, verbose=0)
            seen = sequence.loader_threads
        else:
            model.fit_generator(CountingDataset(), epochs=1, workers=1, verbose=0)
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)
    in_loader_threads = {count for main, count in seen if not main}
    assert in_loader_threads == {1}  # (the first batch, read to build the model, is loaded in the main thread)
