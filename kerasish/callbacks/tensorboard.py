"""``TensorBoard`` (Keras 2.3.1 ``keras/callbacks/tensorboard_v1.py``) through ``torch.utils.tensorboard``.

What is written, in K231 v1's layout (one run directory, ``log_dir`` itself):

* scalars: every epoch log (``loss``, ``acc``, ``val_loss``, ``lr`` ...) under its own name, at step ``epoch``;
  with ``update_freq='batch'`` or an int, also the batch logs every ``update_freq`` samples, and then every
  value is written at the number of samples seen so far (v1's step);
* ``histogram_freq > 0``: every ``histogram_freq`` epochs, a histogram of each weight named as v1 names it
  (``dense_1/kernel_0``), plus ``<name>_grad`` of the last batch's gradients with ``write_grads``;
* ``write_images``: each kernel and bias as an image (v1's reshaping), at the histogram epochs.

Not written, each with a warning rather than silently: the graph (``write_graph``: tracing a model is not free
and may fail; as v1 does on backends other than TensorFlow, ``write_graph=True``, the default, warns that it is
set to False, here once per process), activation histograms (v1 computes them on the validation data in
batches of ``batch_size``, which is why v1 requires validation data; here it is not required, and a
``batch_size`` other than 32 warns that it is ignored), and embeddings (any ``embeddings_*`` argument given
warns that it is ignored). The ``tensorboard`` package is needed; it is optional for kerasish, and constructing
the callback without it raises an ImportError that says how to install it.
"""
from __future__ import annotations

import warnings

import numpy as np
import torch

from kerasish import backend
from kerasish.callbacks.callback import Callback
from kerasish.distributed import is_main_process
from kerasish.utils.validation import check_number

_MISSING_TENSORBOARD = (
    "TensorBoard: writing TensorBoard logs needs the `tensorboard` package, which is not installed "
    "(kerasish writes the event files with torch.utils.tensorboard, which uses it). Install it with "
    "`pip install tensorboard`, or remove the TensorBoard callback.")


def _summary_writer_class():
    """``torch.utils.tensorboard.SummaryWriter``, or the ImportError saying how to get it."""
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError as err:
        raise ImportError(_MISSING_TENSORBOARD) from err
    return SummaryWriter


class TensorBoard(Callback):
    """TensorBoard basic visualizations: logs that ``tensorboard --logdir=/full_path_to_your_logs`` shows.

    Arguments:
        log_dir: the path of the directory where to save the log files to be parsed by TensorBoard.
        histogram_freq: frequency (in epochs) at which to write weight histograms (and images and gradient
            histograms, see ``write_images``/``write_grads``). If set to 0, histograms won't be written.
        batch_size: v1 used it to batch the validation data through the model for activation histograms,
            which kerasish does not write; a value other than 32 warns that it is ignored.
        write_graph: the graph is not written: True (the default) warns once per process that it is set to
            False; pass False to say so and avoid the warning.
        write_grads: whether to write gradient histograms (of the last batch of the epoch) when
            ``histogram_freq`` is greater than 0.
        write_images: whether to write model weights as images in TensorBoard.
        embeddings_freq, embeddings_layer_names, embeddings_metadata, embeddings_data: not supported; given
            (other than their defaults), a warning names them and says they are ignored.
        update_freq: ``'batch'`` or ``'epoch'`` or integer. With ``'batch'`` the losses and metrics are written
            after each batch; with an integer, say ``10000``, every 10000 samples. Writing after batches reads
            the batch values from the device each time, which slows training down.

    Raises:
        ImportError: when the ``tensorboard`` package is not installed.
        ValueError: for an ``update_freq`` that is not 'batch', 'epoch' or a positive integer.
    """

    def __init__(self, log_dir: str = "./logs", histogram_freq: int = 0, batch_size: int = 32,
                 write_graph: bool = True, write_grads: bool = False, write_images: bool = False,
                 embeddings_freq: int = 0, embeddings_layer_names=None, embeddings_metadata=None,
                 embeddings_data=None, update_freq="epoch"):
        super().__init__()
        if update_freq not in ("batch", "epoch") and not (
                isinstance(update_freq, (int, np.integer)) and not isinstance(update_freq, bool) and update_freq > 0):
            raise ValueError(f"TensorBoard: update_freq must be 'batch', 'epoch' or a positive number of samples; "
                             f"received update_freq={update_freq!r}.")
        histogram_freq = check_number(histogram_freq, "histogram_freq", "TensorBoard", low=0, integer=True)
        self._writer_class = _summary_writer_class()
        _warn_unsupported(batch_size=batch_size, embeddings_freq=embeddings_freq,
                          embeddings_layer_names=embeddings_layer_names, embeddings_metadata=embeddings_metadata,
                          embeddings_data=embeddings_data)
        if write_graph:
            _warn_write_graph_once()
        self.log_dir = log_dir
        self.histogram_freq = histogram_freq
        self.batch_size = batch_size
        self.write_graph = False  # what is done (v1 on other backends: "write_graph was set to False")
        self.write_grads = write_grads
        self.write_images = write_images
        self.embeddings_freq = 0  # likewise ("embeddings_freq was set to 0")
        self.embeddings_layer_names = embeddings_layer_names
        self.embeddings_metadata = embeddings_metadata or {}
        self.embeddings_data = embeddings_data
        # K231 v1: 'batch' is the same as writing as frequently as possible, i.e. every sample count.
        self.update_freq = 1 if update_freq == "batch" else update_freq
        self.samples_seen = 0
        self.samples_seen_at_last_write = 0
        self.writer = None
        if self.update_freq != "epoch":
            # Only then does this callback need the batch hooks; without them the loop builds no batch logs.
            self.on_batch_end = self._write_batch_logs

    def on_train_begin(self, logs=None):
        if self.writer is None:
            # Other replicas of a torchrun job write nothing (the logs they see are the global ones anyway).
            self.writer = self._writer_class(log_dir=self.log_dir) if is_main_process() else _NullWriter()

    def on_train_end(self, logs=None):
        if self.writer is not None:
            self.writer.close()
            self.writer = None

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.writer is None:  # driven without on_train_begin
            self.on_train_begin()
        if self.histogram_freq and epoch % self.histogram_freq == 0:
            self._write_weights(epoch)
        index = epoch if self.update_freq == "epoch" else self.samples_seen
        self._write_logs(logs, index)

    def _write_batch_logs(self, batch, logs=None):
        logs = logs or {}
        self.samples_seen += logs.get("size", 0)
        if self.samples_seen - self.samples_seen_at_last_write >= self.update_freq:
            if self.writer is None:
                self.on_train_begin()
            self._write_logs(logs, self.samples_seen)  # reads the batch values: one device sync
            self.samples_seen_at_last_write = self.samples_seen

    def _write_logs(self, logs, index: int) -> None:
        for name, value in logs.items():
            if name in ("batch", "size"):
                continue
            scalar = _scalar(value)
            if scalar is not None:
                self.writer.add_scalar(name, scalar, index)
        self.writer.flush()

    def _write_weights(self, epoch: int) -> None:
        for layer in getattr(self.model, "layers", []):
            for (attr, layout), weight in zip(layer.keras_weight_specs(), layer.weights):
                # Keras names weights 'dense_1/kernel:0'; v1 writes them with ':' replaced by '_'.
                name = f"{layer.name}/{attr}_0"
                values = weight.detach()
                self.writer.add_histogram(name, values, epoch)
                if self.write_grads and weight.requires_grad and weight.grad is not None:
                    self.writer.add_histogram(f"{name}_grad", weight.grad.detach(), epoch)
                if self.write_images:
                    images = _weight_images(layout.to_keras(values))
                    if images is not None:
                        self.writer.add_images(name, images, epoch, dataformats="NHWC")


# Why each unsupported argument is ignored, and its default (given any other value, a warning names it).
_UNSUPPORTED = {
    "batch_size": (32, "it batches the validation data through the model for activation histograms, which "
                       "kerasish does not write (its histograms are of the weights)"),
    "embeddings_freq": (0, "kerasish does not write embeddings"),
    "embeddings_layer_names": (None, "kerasish does not write embeddings"),
    "embeddings_metadata": (None, "kerasish does not write embeddings"),
    "embeddings_data": (None, "kerasish does not write embeddings"),
}
_write_graph_warned = False


def _warn_unsupported(**given) -> None:
    """One warning naming every argument given a value other than its default that kerasish does not use."""
    reasons = [f"{name}={value!r:.60} ({_UNSUPPORTED[name][1]})" for name, value in given.items()
               if not _is_default(value, _UNSUPPORTED[name][0])]
    if reasons:
        warnings.warn(f"TensorBoard: these arguments are not supported and are ignored: {'; '.join(reasons)}.",
                      stacklevel=3)


def _is_default(value, default) -> bool:
    if default is None:
        return value is None
    return not isinstance(value, (np.ndarray, torch.Tensor)) and value == default


def _warn_write_graph_once() -> None:
    global _write_graph_warned
    if not _write_graph_warned:
        _write_graph_warned = True
        warnings.warn("TensorBoard: kerasish does not write the model graph, so write_graph was set to False "
                      "(pass write_graph=False to avoid this warning; it is shown once per process).", stacklevel=3)


def _scalar(value):
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    if isinstance(value, (np.ndarray, np.generic)):
        return value.item() if value.size == 1 else None
    if isinstance(value, (int, float)):
        return float(value)
    return None


def _weight_images(weight: torch.Tensor) -> torch.Tensor | None:
    """K231 v1's picture of a weight in Keras layout, as (N, H, W, 1) in [0, 1]; None for shapes v1 skips."""
    w = weight.squeeze().to(torch.float32)
    if w.dim() == 2:  # dense kernel: the longer side horizontal
        if w.shape[0] > w.shape[1]:
            w = w.t()
        w = w.reshape(1, w.shape[0], w.shape[1], 1)
    elif w.dim() == 3:  # a 2-D conv kernel squeezed to (k, k, out) or a 1-D one (k, in, out): one image per slice
        if backend.image_data_format() == "channels_last":
            w = w.permute(2, 0, 1)
        w = w.reshape(w.shape[0], w.shape[1], w.shape[2], 1)
    elif w.dim() == 1:  # bias
        w = w.reshape(1, w.shape[0], 1, 1)
    else:
        return None  # v1: not possible to handle 3D convnets etc.
    low, high = w.min(), w.max()
    return ((w - low) / (high - low).clamp_min(1e-12)).cpu()


class _NullWriter:
    """Stands in for SummaryWriter on ranks other than 0."""

    def __getattr__(self, name):
        return lambda *args, **kwargs: None
