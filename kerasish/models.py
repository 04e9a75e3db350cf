"""``Sequential``: Keras 2's model API on a torch ``nn.Module``.

The methods here are thin entry points: they check every argument (raising before any weight changes),
build the model, turn the data into an adapter and hand over to ``training.trainer``.
"""
from __future__ import annotations

import itertools
import warnings

import numpy as np
import torch
from torch import nn

from kerasish import activations, backend, distributed, mixed_precision
from kerasish import optimizers as optimizers_module
from kerasish.callbacks import CallbackList, History, ProgbarLogger
from kerasish.layers.base import KERAS, Layer, to_layout
from kerasish.layers.core import ActivatedLayer, InputLayer, as_layer
from kerasish.training import arguments as args
from kerasish.training import trainer
from kerasish.training.compile_utils import CompiledLoss, CompiledMetrics, MetricsTracker
from kerasish.training.data_adapters import get_data_adapter, get_stream_adapter, is_stream, stream_length
from kerasish.training.data_adapters.order import new_seed, replica_steps
from kerasish.training.epoch_iterator import EpochIterator
from kerasish.training.jit import CompiledFunction, resolve_jit_compile
from kerasish.utils.summary import print_summary

_FIT_ARGS = ["x", "y", "batch_size", "epochs", "verbose", "callbacks", "validation_split", "validation_data",
             "shuffle", "class_weight", "sample_weight", "initial_epoch", "steps_per_epoch", "validation_steps",
             "validation_freq", "max_queue_size", "workers", "use_multiprocessing"]


class Sequential(nn.Module):
    """A linear stack of layers: ``Sequential([Dense(64, input_dim=20), Dense(1)])``."""

    def __init__(self, layers=None, name: str | None = None):
        super().__init__()
        self.name = name or f"sequential_{backend.get_uid('sequential')}"
        self._stack = nn.ModuleList()
        self.built = False
        self.optimizer = None
        self.compiled_loss: CompiledLoss | None = None
        self.compiled_metrics: CompiledMetrics | None = None
        self._loss_from_logits = False
        self._shuffle_seed: int | None = None
        self._bound_to = None
        self._on_batch_tracker: MetricsTracker | None = None
        self._compile_args: dict = {}
        self.dtype_policy = mixed_precision.global_policy()
        self._grad_scaler = None
        self._forward_impl = None  # the torch.compile'd forward under jit_compile, else None (plain calls)
        # torchrun: the DistributedDataParallel wrapper training goes through (see _wrap_data_parallel)
        self._data_parallel = None
        self._data_parallel_key = None
        self._penalty_layers_cache = None  # see _penalty_layers
        self.stop_training = False
        self.history = None
        for layer in layers or []:
            self.add(layer)

    # ------------------------------------------------------------------ structure
    @property
    def layers(self) -> list[Layer]:
        """The layers, without the InputLayer (as Keras 2.3.1's Sequential.layers)."""
        return [layer for layer in self._stack if not isinstance(layer, InputLayer)]

    def add(self, layer) -> None:
        layer = as_layer(layer)
        if any(existing.name == layer.name for existing in self._stack):
            raise ValueError("All layers added to a Sequential model should have unique names. Name "
                             f'"{layer.name}" is already the name of a layer in this model. Update the `name` '
                             "argument to pass a unique name.")
        if len(self._stack) and layer.batch_input_shape is not None and not isinstance(layer, InputLayer):
            warnings.warn(f"Sequential.add: input_shape of {layer.name} is ignored; only the first layer's "
                          "input shape defines the model input.", stacklevel=2)
        self._stack.append(layer)
        if self.built:
            self._build_layers(self._batch_input_shape)
        elif len(self._stack) == 1 and layer.batch_input_shape is not None:
            self._build_layers(layer.batch_input_shape)

    def pop(self) -> None:
        if not self.layers:
            raise TypeError("There are no layers in the model.")
        self._stack = nn.ModuleList(list(self._stack)[:-1])
        self._penalty_layers_cache = None
        if not self.layers:
            self.built = False

    def get_layer(self, name: str | None = None, index: int | None = None) -> Layer:
        if index is not None:
            if not 0 <= index < len(self.layers):
                raise ValueError(f"get_layer: was asked to retrieve layer at index {index} but model only has "
                                 f"{len(self.layers)} layers.")
            return self.layers[index]
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise ValueError(f"get_layer: no such layer: {name}. Layers: {[layer.name for layer in self.layers]}.")

    # ------------------------------------------------------------------ building
    def build(self, input_shape=None) -> None:
        """Create all weights for inputs of shape ``input_shape`` (with the batch dim, e.g. ``(None, 784)``)."""
        if input_shape is None:
            first = self._stack[0] if len(self._stack) else None
            input_shape = first.batch_input_shape if first is not None else None
        if input_shape is None:
            raise ValueError("You must provide an `input_shape` argument.")
        self._build_layers(tuple(input_shape))

    def _build_layers(self, batch_input_shape: tuple) -> None:
        """Build each layer in turn, inferring every output shape by running a one-sample zero batch."""
        if not len(self._stack):
            raise TypeError("Sequential: add layers before building the model.")
        shape = (None,) + tuple(batch_input_shape[1:])
        device = self._current_device()
        was_training = self.training
        x = torch.zeros((1,) + shape[1:], device=device)
        layout = KERAS
        with torch.no_grad():
            for layer in self._stack:
                layer._build_once(shape)
                layer.to(device)
                layer.input_shape = shape
                layer.eval()
                x = to_layout(x, layout, layer.input_layout)
                layout = layer.input_layout if layer.input_layout != "any" else layout
                x = layer(x)
                shape = (None,) + tuple(to_layout(x, layout, KERAS).shape[1:])
                layer.output_shape = shape
        self.train(was_training)
        self._batch_input_shape = (batch_input_shape[0],) + tuple(batch_input_shape[1:])
        self.built = True
        self._penalty_layers_cache = None
        self._update_logits_path()

    def _current_device(self) -> torch.device:
        for tensor in itertools.chain(self.parameters(), self.buffers()):
            return tensor.device
        return torch.device("cpu")

    def _ensure_built_for(self, x: torch.Tensor) -> None:
        if not self.built:
            self._build_layers((None,) + tuple(x.shape[1:]))

    @property
    def input_shape(self):
        self._require_built("input_shape")
        return self._batch_input_shape

    @property
    def output_shape(self):
        self._require_built("output_shape")
        return self._stack[-1].output_shape

    @property
    def device(self) -> torch.device:
        return self._current_device()

    def _require_built(self, what: str) -> None:
        if not self.built:
            raise ValueError(f"{what}: This model has not yet been built. Build the model first by calling "
                             "build() or calling fit() with some data. Or specify input_shape or "
                             "batch_input_shape in the first layer for automatic build.")

    # ------------------------------------------------------------------ forward
    def forward(self, x: torch.Tensor, logits: bool = False) -> torch.Tensor:
        """Keras-layout tensor in, Keras-layout tensor out (``model(x)`` as in Keras). ``logits=True`` skips the
        final softmax/sigmoid (the loop uses it to compute cross-entropies stably)."""
        return self._run_layers(x, logits=logits)

    def _run_layers(self, x: torch.Tensor, logits: bool) -> torch.Tensor:
        if not x.is_floating_point():
            x = x.to(backend.torch_floatx())  # integer images are cast on the device, batch by batch
        layout = KERAS
        last = len(self._stack) - 1
        for i, layer in enumerate(self._stack):
            x = to_layout(x, layout, layer.input_layout)
            layout = layer.input_layout if layer.input_layout != "any" else layout
            x = layer.call_pre_activation(x) if (logits and i == last) else layer(x)
        return to_layout(x, layout, KERAS)

    def compute_output(self, x, training: bool, logits: bool | None = None):
        """The forward pass used by the loop: ``(output, is_logits)``. When the loss absorbs the final
        softmax/sigmoid, the output is the logits so the loss is computed stably."""
        use_logits = self._loss_from_logits if logits is None else logits
        forward = self._forward_impl or self._run_layers
        if training and self._data_parallel is not None:
            forward = self._data_parallel  # torchrun: DDP's hooks average the gradients of this forward
        if self.dtype_policy.autocast_dtype is None:  # float32: no context to enter and leave every step
            return forward(x, logits=use_logits), use_logits
        with self.dtype_policy.autocast(x.device):
            output = forward(x, logits=use_logits)
        return output.float(), use_logits

    def final_activation(self, logits: torch.Tensor) -> torch.Tensor:
        last = self._stack[-1]
        return to_layout(last.apply_activation(to_layout(logits, KERAS, last.input_layout)), last.input_layout,
                         KERAS)

    def _update_logits_path(self) -> None:
        last = self._stack[-1] if len(self._stack) else None
        self._loss_from_logits = bool(
            self.compiled_loss is not None and isinstance(last, ActivatedLayer)
            and self.compiled_loss.absorbable_activation is not None
            and last.activation is getattr(activations, self.compiled_loss.absorbable_activation))

    def add_regularization(self, loss: torch.Tensor, training: bool = True) -> torch.Tensor:
        penalties = [p for layer in self._penalty_layers()[0] for p in layer.regularization_losses()]
        return loss + torch.stack(penalties).sum() if penalties else loss

    def apply_constraints(self) -> None:
        for layer in self._penalty_layers()[1]:
            layer.apply_constraints()

    def _penalty_layers(self) -> tuple[list, list]:
        """``(layers with regularizers, layers with constraints)``, found once and kept rather than by walking
        every layer's penalties at every training step (a few microseconds of a small step, for nothing). Keras 2
        collects a model's losses when it is compiled; the lists are found again after ``compile``, ``build``
        (which ``add`` runs on a built model) and ``pop``."""
        if self._penalty_layers_cache is None:
            penalized = [layer for layer in self._stack
                         if layer._weight_penalties or layer.activity_regularizer is not None]
            constrained = [layer for layer in self._stack
                           if any(c is not None for _, c in layer._weight_penalties.values())]
            self._penalty_layers_cache = (penalized, constrained)
        return self._penalty_layers_cache

    # ------------------------------------------------------------------ compile
    def compile(self, optimizer="rmsprop", loss=None, metrics=None, loss_weights=None, sample_weight_mode=None,
                weighted_metrics=None, target_tensors=None, jit_compile=False, dtype_policy=None, **kwargs):
        """Keras 2.3.1 ``compile``. ``optimizer``: a Keras name or optimizer, a torch optimizer (class or
        instance); ``loss``: a Keras name or function; ``metrics``: names (``'accuracy'``/``'acc'``) or functions.

        Beyond Keras 2: ``jit_compile`` (Keras 3's name) runs the forward pass through ``torch.compile``
        (``True``, ``'auto'`` = CUDA only, or a dict of torch.compile options); ``dtype_policy``
        (``'mixed_float16'``/``'mixed_bfloat16'``) overrides ``kerasish.mixed_precision.global_policy()``.

        Note: this replaces ``torch.nn.Module.compile``; for ``torch.compile`` use ``jit_compile=True``.
        """
        args.reject_unknown_kwargs(kwargs, ["optimizer", "loss", "metrics", "loss_weights", "sample_weight_mode",
                                            "weighted_metrics", "target_tensors", "jit_compile", "dtype_policy"],
                                   "compile")
        if loss is None:
            raise ValueError("compile: loss is required, e.g. loss='categorical_crossentropy'; received None.")
        if target_tensors is not None:
            raise ValueError("compile: target_tensors is a TensorFlow graph feature with no torch equivalent; "
                             "pass the targets to fit() instead.")
        if sample_weight_mode not in (None, "temporal"):
            raise ValueError(f"compile: sample_weight_mode must be None or 'temporal'; received {sample_weight_mode!r}.")
        loss, loss_weight = _single_output(loss, loss_weights, self)
        compiled_loss = CompiledLoss(loss, loss_weight, sample_weight_mode)
        output_shape = self.output_shape if self.built else None
        compiled_metrics = CompiledMetrics(metrics, weighted_metrics, compiled_loss.fn, output_shape)
        resolved_optimizer = optimizers_module.get(optimizer)
        policy = mixed_precision.Policy(dtype_policy) if dtype_policy is not None else mixed_precision.global_policy()
        resolve_jit_compile(jit_compile, torch.device("cpu"))  # validates the value
        # Everything validated: now change the model.
        self.optimizer = resolved_optimizer
        self._optimizer_spec = resolved_optimizer
        self.compiled_loss = compiled_loss
        self.compiled_metrics = compiled_metrics
        self._bound_to = None
        self._compile_args = {"metrics": metrics, "weighted_metrics": weighted_metrics, "jit_compile": jit_compile,
                              "dtype_policy": policy.name}
        self.dtype_policy = policy
        self._grad_scaler = None
        self._forward_impl = None  # set in _prepare once the device is known (torch.compile or plain)
        self._on_batch_tracker = None
        self._penalty_layers_cache = None
        self.loss = loss
        if self.built:
            self._update_logits_path()

    @property
    def metrics_names(self) -> list[str]:
        self._require_compiled("metrics_names")
        return ["loss"] + self.compiled_metrics.names

    def _require_compiled(self, caller: str) -> None:
        if self.compiled_loss is None:
            # Keras 2.3.1 wording
            raise RuntimeError(f"{caller}: You must compile your model before training/testing. "
                               "Use `model.compile(optimizer, loss)`.")

    def _prepare(self, x: torch.Tensor, training: bool) -> None:
        """Build from the first batch's shape if needed, move to the device, attach the optimizer."""
        self._ensure_built_for(x)
        self.to(backend.get_device())
        if self.compiled_loss is not None:
            # metric resolution may depend on the output shape ('acc' with 1 unit -> binary accuracy)
            if self.compiled_metrics is not None and self.compiled_metrics.output_shape is None:
                self.compiled_metrics = CompiledMetrics(self._compile_args["metrics"],
                                                        self._compile_args["weighted_metrics"],
                                                        self.compiled_loss.fn, self.output_shape)
            self._update_logits_path()
            self._prepare_execution()
            if training:
                self._bind_optimizer()
                self._wrap_data_parallel()

    def _prepare_execution(self) -> None:
        """Loss scaler and (optionally) the torch.compile'd forward, for the current device."""
        device = self.device
        if self._grad_scaler is None and self.dtype_policy.needs_loss_scaling:
            self._grad_scaler = self.dtype_policy.grad_scaler(device)
        options = resolve_jit_compile(self._compile_args["jit_compile"], device)
        if options is not None and self._forward_impl is None:
            self._forward_impl = CompiledFunction(self._run_layers, options)

    def _wrap_data_parallel(self) -> None:
        """torchrun: wrap the model in DistributedDataParallel for training, again whenever the trainable weights
        or their device change. Wrapping broadcasts rank 0's weights, so every rank starts alike. The wrapper is
        not registered as a submodule (it holds this model: the module tree would recurse, and state_dict would
        list every weight twice); its forward is ours, compiled under jit_compile."""
        if not distributed.is_distributed():
            return
        key = (tuple((id(p), p.requires_grad) for p in self.parameters()), self.device)
        if key != self._data_parallel_key:
            # DDP refuses a model with nothing to train (all layers frozen); then there are no gradients to average
            trainable = any(p.requires_grad for p in self.parameters())
            wrapper = distributed.data_parallel(self, self._replica_forward) if trainable else None
            object.__setattr__(self, "_data_parallel", wrapper)
            object.__setattr__(self, "_data_parallel_key", key)

    def _replica_forward(self, x, logits: bool):
        return (self._forward_impl or self._run_layers)(x, logits=logits)

    def _bind_optimizer(self) -> None:
        """Attach the compiled optimizer to the parameters once; later fits keep its state."""
        params = [p for p in self.parameters()]
        if not params:
            raise ValueError(f"{self.name} has no weights to train; add a layer with weights before fit().")
        key = tuple(id(p) for p in params)
        if getattr(self, "_bound_to", None) != key:
            self.optimizer = optimizers_module.bind(self._optimizer_spec, params)
            self._bound_to = key

    # ------------------------------------------------------------------ data checks
    def _check_input(self, x: torch.Tensor, caller: str) -> None:
        if not self.built:
            return
        expected = self.input_shape
        input_name = f"{self.layers[0].name}_input"
        if x.dim() != len(expected):
            # Keras 2.3.1 training_utils.standardize_input_data wording
            raise ValueError(f"{caller}: Error when checking input: expected {input_name} to have {len(expected)} "
                             f"dimensions, but got array with shape {tuple(x.shape)}")
        for want, got in zip(expected[1:], x.shape[1:]):
            if want is not None and want != got:
                raise ValueError(f"{caller}: Error when checking input: expected {input_name} to have shape "
                                 f"{tuple(expected[1:])} but got array with shape {tuple(x.shape[1:])}")

    def _standardize_targets(self, y, caller: str, validate: bool = True) -> torch.Tensor:
        from kerasish import losses
        y = args.to_tensor(y, "y", caller)
        output_shape = self.output_shape
        if validate:
            losses.validate_targets(self.compiled_loss.fn, y, output_shape[1:])
        if self.compiled_loss.is_sparse:
            return y.to(torch.int64)
        if y.dim() == 1 and len(output_shape) == 2:
            y = y.reshape(-1, 1)  # Keras expands (n,) targets to (n, 1)
        if not y.is_floating_point():
            y = y.to(backend.torch_floatx())
        if validate and tuple(y.shape[1:]) != tuple(output_shape[1:]):
            raise ValueError(f"{caller}: Error when checking target: expected {self.layers[-1].name} to have shape "
                             f"{tuple(output_shape[1:])} but got array with shape {tuple(y.shape[1:])}")
        return y

    def _standardize_xy(self, x, y, sample_weight, class_weight, caller: str, training: bool = False):
        if x is None:
            raise ValueError(f"{caller}: x is required; received None.")
        x = args.to_tensor(x, "x", caller, allow_lazy=True)
        if y is None:
            raise ValueError(f"{caller}: y is required with array inputs; received None.")
        args.check_same_length(caller, x, y, sample_weight)
        self._check_input(x, caller)
        self._prepare(x, training)
        y = self._standardize_targets(y, caller)
        weights = args.standardize_sample_weight(sample_weight, y, self.compiled_loss.sample_weight_mode, caller)
        class_weights = args.class_weights_from(class_weight, caller)
        if class_weights is not None:
            weights = class_weights(y, weights)
        return x, y, weights

    def _seed(self) -> int:
        if self._shuffle_seed is None:
            self._shuffle_seed = distributed.broadcast_int(new_seed())  # torchrun: rank 0's, for the same order
        return self._shuffle_seed

    def _array_iterator(self, tensors, batch_size: int, steps=None, shuffle=False) -> EpochIterator:
        adapter = get_data_adapter(tensors, batch_size=batch_size, shuffle=shuffle, seed=self._seed(),
                                   device=self.device)
        return EpochIterator(adapter, steps)

    def _stream_iterator(self, source, steps, steps_name: str, caller: str, *, training: bool, need_targets=True,
                         class_weight=None, shuffle=False, workers=1, use_multiprocessing=False,
                         max_queue_size=10) -> EpochIterator:
        """A generator/Sequence/image iterator as an EpochIterator. Builds the model from a peeked first batch
        when needed; the first batch's shapes and targets are checked like arrays are."""
        steps = args.check_positive_int(steps, steps_name, caller, allow_none=True)
        if steps is None:
            steps = stream_length(source)
        if steps is None:
            # Keras 2.3.1 training_generator.py wording
            raise ValueError(f"{caller}: `{steps_name}=None` is only valid for a generator based on the "
                             f"`keras.utils.Sequence` class. Please specify `{steps_name}` or use the "
                             "`keras.utils.Sequence` class.")
        first = None
        if not self.built or self.device != backend.get_device() or (training and self._bound_to is None):
            first, raw_x = self._peek(source, caller, need_targets)
            self._prepare(args.to_tensor(raw_x, "x", caller), training)
        adapter = get_stream_adapter(
            source, prepare=self._batch_preparer(caller, need_targets, args.class_weights_from(class_weight, caller)),
            device=self.device, shuffle=shuffle, seed=self._seed(), workers=workers,
            use_multiprocessing=use_multiprocessing, max_queue_size=max_queue_size,
            first_batch=first)
        if getattr(adapter, "sharded", False):
            # torchrun: each step takes one Sequence batch per replica, so `steps` Sequence batches (one pass by
            # default) take ceil(steps / W) steps.
            steps = replica_steps(steps, adapter.shard)
        return EpochIterator(adapter, steps)

    def _peek(self, source, caller: str, need_targets):
        """The first batch of a source, to build the model: a plain generator's item is kept and served first."""
        if hasattr(source, "batch_tensors"):
            raw, first = source.batch_tensors(0, torch.device("cpu")), None
        elif stream_length(source) is not None:
            raw, first = source[0], None
        else:
            raw = first = next(source)
        x, _, _ = args.unpack_batch(raw, caller, need_targets)
        return first, x

    def _batch_preparer(self, caller: str, need_targets, class_weights):
        """Raw generator batch -> device tensors ``(x, y, sample_weight)``; the first batch is fully checked."""
        device = self.device
        checked = []
        mode = self.compiled_loss.sample_weight_mode if self.compiled_loss else None

        def prepare(raw):
            x, y, sample_weight = args.unpack_batch(raw, caller, need_targets)
            x = args.to_tensor(x, "x", caller)
            first = not checked
            if first:
                self._check_input(x, caller)
            if y is not None:
                y = self._standardize_targets(y, caller, validate=first)
                sample_weight = args.standardize_sample_weight(sample_weight, y, mode, caller)
                if class_weights is not None:
                    sample_weight = class_weights(y, sample_weight)
            checked.append(True)
            return tuple(None if t is None else backend.to_device(t, device) for t in (x, y, sample_weight))

        return prepare

    def _fit_callbacks(self, callbacks, verbose: int, count_mode: str, params: dict, validation_data):
        self.history = History()
        cbks = CallbackList(_default_callbacks(verbose, self.metrics_names[1:], count_mode) + callbacks
                            + [self.history])
        cbks.set_model(self)
        metric_names = self.metrics_names + (["val_" + n for n in self.metrics_names] if params["do_validation"]
                                             else [])
        cbks.set_params({**params, "verbose": verbose, "metrics": metric_names})
        for cb in cbks:
            cb.validation_data = validation_data  # Keras 2.3.1 exposes the validation arrays to callbacks
        return cbks

    # ------------------------------------------------------------------ fit / evaluate / predict
    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose=1, callbacks=None, validation_split=0.0,
            validation_data=None, shuffle=True, class_weight=None, sample_weight=None, initial_epoch=0,
            steps_per_epoch=None, validation_steps=None, validation_freq=1, max_queue_size=10, workers=1,
            use_multiprocessing=False, **kwargs):
        """Train for ``epochs - initial_epoch`` epochs; returns a ``History``. Keras 2.3.1 semantics.

        ``x`` may also be a generator, a ``Sequence`` or an ImageDataGenerator iterator (then as fit_generator).
        """
        caller = "fit"
        if "nb_epoch" in kwargs:
            warnings.warn("The `nb_epoch` argument in `fit` has been renamed `epochs`.", stacklevel=2)
            epochs = kwargs.pop("nb_epoch")
        args.reject_unknown_kwargs(kwargs, _FIT_ARGS, caller)
        if is_stream(x):
            args.check_generator_arguments(caller, y, sample_weight, validation_split, batch_size)
            return self.fit_generator(x, steps_per_epoch=steps_per_epoch, epochs=epochs, verbose=verbose,
                                      callbacks=callbacks, validation_data=validation_data,
                                      validation_steps=validation_steps, validation_freq=validation_freq,
                                      class_weight=class_weight, max_queue_size=max_queue_size, workers=workers,
                                      use_multiprocessing=use_multiprocessing, shuffle=shuffle,
                                      initial_epoch=initial_epoch)
        self._require_compiled(caller)
        batch_size = args.check_positive_int(32 if batch_size is None else batch_size, "batch_size", caller)
        epochs = args.check_positive_int(epochs, "epochs", caller, minimum=0)
        initial_epoch = args.check_positive_int(initial_epoch, "initial_epoch", caller, minimum=0)
        verbose = _rank_verbosity(args.check_verbose(verbose, caller))
        shuffle = args.check_shuffle(shuffle, caller)
        validation_split = args.check_validation_split(validation_split, caller)
        validation_freq = args.check_validation_freq(validation_freq, caller)
        steps_per_epoch = args.check_positive_int(steps_per_epoch, "steps_per_epoch", caller, allow_none=True)
        validation_steps = args.check_positive_int(validation_steps, "validation_steps", caller, allow_none=True)
        callback_list = _user_callbacks(callbacks, caller)

        x, y, sample_weight = self._standardize_xy(x, y, sample_weight, class_weight, caller, training=True)
        train_tensors, val_tensors, val_iterator = [x, y, sample_weight], None, None
        if is_stream(validation_data):
            val_iterator = self._stream_iterator(validation_data, validation_steps, "validation_steps", caller,
                                                 training=False, workers=workers,
                                                 use_multiprocessing=use_multiprocessing,
                                                 max_queue_size=max_queue_size)
        elif validation_data is not None:
            x_val, y_val, w_val = args.unpack_validation_data(validation_data, caller)
            val_tensors = list(self._standardize_xy(x_val, y_val, w_val, None, caller + " (validation_data)"))
        elif validation_split > 0.0:
            train_tensors, val_tensors = args.split_validation(train_tensors, validation_split, caller)
        if val_tensors is not None:
            val_iterator = self._array_iterator(val_tensors, batch_size, validation_steps)

        train_iterator = self._array_iterator(train_tensors, batch_size, steps_per_epoch, shuffle)
        cbks = self._fit_callbacks(callback_list, verbose, "samples" if steps_per_epoch is None else "steps",
                                   {"batch_size": batch_size, "epochs": epochs, "steps": steps_per_epoch,
                                    "samples": len(train_tensors[0]), "do_validation": val_iterator is not None},
                                   val_tensors)
        if verbose and val_tensors is not None and steps_per_epoch is None:
            print(f"Train on {len(train_tensors[0])} samples, validate on {len(val_tensors[0])} samples")
        trainer.run_fit(self, train_iterator, epochs=epochs, initial_epoch=initial_epoch, callbacks=cbks,
                        validation=val_iterator, validation_freq=validation_freq)
        return self.history

    @args.legacy_generator_support(allowed_positional=3)
    def fit_generator(self, generator, steps_per_epoch=None, epochs=1, verbose=1, callbacks=None,
                      validation_data=None, validation_steps=None, validation_freq=1, class_weight=None,
                      max_queue_size=10, workers=1, use_multiprocessing=False, shuffle=True, initial_epoch=0):
        """Train on batches from a generator, a ``Sequence`` or an ImageDataGenerator iterator (Keras 2.3.1).

        The generator yields ``(x, y)`` or ``(x, y, sample_weight)``. ``steps_per_epoch`` defaults to ``len()``
        of a Sequence/iterator and is required for plain generators; a Sequence wraps around when more steps
        are asked for; a finite generator that runs out ends training with a warning, keeping the weights.
        Loading overlaps training through a queue of ``max_queue_size`` batches (see data_adapters).
        """
        caller = "fit_generator"
        self._require_compiled(caller)
        if not is_stream(generator):
            raise TypeError(f"{caller}: generator must be a Python generator, a kerasish.utils.Sequence or an "
                            f"ImageDataGenerator iterator; received {type(generator).__name__}. For arrays use fit().")
        epochs = args.check_positive_int(epochs, "epochs", caller, minimum=0)
        initial_epoch = args.check_positive_int(initial_epoch, "initial_epoch", caller, minimum=0)
        verbose = _rank_verbosity(args.check_verbose(verbose, caller))
        validation_freq = args.check_validation_freq(validation_freq, caller)
        workers = args.check_positive_int(workers, "workers", caller, minimum=0)
        max_queue_size = args.check_positive_int(max_queue_size, "max_queue_size", caller)
        callback_list = _user_callbacks(callbacks, caller)
        loading = {"workers": workers, "use_multiprocessing": bool(use_multiprocessing),
                   "max_queue_size": max_queue_size}

        train_iterator = self._stream_iterator(generator, steps_per_epoch, "steps_per_epoch", caller, training=True,
                                               class_weight=class_weight, shuffle=bool(shuffle), **loading)
        val_iterator, val_tensors = None, None
        if is_stream(validation_data):
            val_iterator = self._stream_iterator(validation_data, validation_steps, "validation_steps", caller,
                                                 training=False, **loading)
        elif validation_data is not None:
            x_val, y_val, w_val = args.unpack_validation_data(validation_data, caller)
            val_tensors = list(self._standardize_xy(x_val, y_val, w_val, None, caller + " (validation_data)"))
            val_iterator = self._array_iterator(val_tensors, _batch_size_of(generator), validation_steps)
        cbks = self._fit_callbacks(callback_list, verbose, "steps",
                                   {"epochs": epochs, "steps": train_iterator.steps,
                                    "do_validation": val_iterator is not None}, val_tensors)
        trainer.run_fit(self, train_iterator, epochs=epochs, initial_epoch=initial_epoch, callbacks=cbks,
                        validation=val_iterator, validation_freq=validation_freq)
        return self.history

    def evaluate(self, x=None, y=None, batch_size=None, verbose=1, sample_weight=None, steps=None, callbacks=None,
                 max_queue_size=10, workers=1, use_multiprocessing=False):
        """Loss (and metrics) on the data: a scalar without metrics, else a list in ``metrics_names`` order."""
        caller = "evaluate"
        if is_stream(x):
            args.check_generator_arguments(caller, y, sample_weight, None, batch_size)
            return self.evaluate_generator(x, steps=steps, callbacks=callbacks, max_queue_size=max_queue_size,
                                           workers=workers, use_multiprocessing=use_multiprocessing, verbose=verbose)
        self._require_compiled(caller)
        batch_size = args.check_positive_int(32 if batch_size is None else batch_size, "batch_size", caller)
        verbose = _rank_verbosity(args.check_verbose(verbose, caller))
        steps = args.check_positive_int(steps, "steps", caller, allow_none=True)
        callback_list = _user_callbacks(callbacks, caller)
        tensors = list(self._standardize_xy(x, y, sample_weight, None, caller))
        iterator = self._array_iterator(tensors, batch_size, steps)
        return self._evaluate(iterator, callback_list, verbose, len(tensors[0]))

    @args.legacy_generator_support(allowed_positional=2)
    def evaluate_generator(self, generator, steps=None, callbacks=None, max_queue_size=10, workers=1,
                           use_multiprocessing=False, verbose=0):
        caller = "evaluate_generator"
        self._require_compiled(caller)
        verbose = _rank_verbosity(args.check_verbose(verbose, caller))
        callback_list = _user_callbacks(callbacks, caller)
        iterator = self._stream_iterator(generator, steps, "steps", caller, training=False, workers=workers,
                                         use_multiprocessing=use_multiprocessing, max_queue_size=max_queue_size)
        return self._evaluate(iterator, callback_list, verbose, None)

    def _evaluate(self, iterator: EpochIterator, callback_list, verbose: int, num_samples):
        cbks = CallbackList(callback_list + _progress_callbacks(verbose, num_samples, iterator.steps))
        cbks.set_model(self)
        try:
            results = trainer.run_evaluate(self, iterator, cbks)
        finally:
            iterator.close()
        values = [results[name] for name in self.metrics_names]
        return values[0] if len(values) == 1 else values

    def predict(self, x, batch_size=None, verbose=0, steps=None, callbacks=None, max_queue_size=10, workers=1,
                use_multiprocessing=False) -> np.ndarray:
        caller = "predict"
        if is_stream(x):
            args.check_generator_arguments(caller, batch_size=batch_size)
            return self.predict_generator(x, steps=steps, callbacks=callbacks, max_queue_size=max_queue_size,
                                          workers=workers, use_multiprocessing=use_multiprocessing, verbose=verbose)
        batch_size = args.check_positive_int(32 if batch_size is None else batch_size, "batch_size", caller)
        verbose = _rank_verbosity(args.check_verbose(verbose, caller))
        steps = args.check_positive_int(steps, "steps", caller, allow_none=True)
        callback_list = _user_callbacks(callbacks, caller)
        x = args.to_tensor(x, "x", caller, allow_lazy=True)
        args.check_same_length(caller, x)
        self._check_input(x, caller)
        self._ensure_built_for(x)
        self.to(backend.get_device())
        return self._predict(self._array_iterator([x], batch_size, steps), callback_list, verbose, len(x))

    @args.legacy_generator_support(allowed_positional=2)
    def predict_generator(self, generator, steps=None, callbacks=None, max_queue_size=10, workers=1,
                          use_multiprocessing=False, verbose=0) -> np.ndarray:
        """Predictions for the batches of a generator; it may yield ``x`` or ``(x, y[, sample_weight])``."""
        caller = "predict_generator"
        verbose = _rank_verbosity(args.check_verbose(verbose, caller))
        callback_list = _user_callbacks(callbacks, caller)
        iterator = self._stream_iterator(generator, steps, "steps", caller, training=False, need_targets=False,
                                         workers=workers, use_multiprocessing=use_multiprocessing,
                                         max_queue_size=max_queue_size)
        return self._predict(iterator, callback_list, verbose, None)

    def _predict(self, iterator: EpochIterator, callback_list, verbose: int, num_samples) -> np.ndarray:
        cbks = CallbackList(callback_list + _progress_callbacks(verbose, num_samples, iterator.steps))
        cbks.set_model(self)
        try:
            return trainer.run_predict(self, iterator, cbks)
        finally:
            iterator.close()

    # ------------------------------------------------------------------ single batches
    def train_on_batch(self, x, y, sample_weight=None, class_weight=None, reset_metrics=True):
        return self._on_batch("train_on_batch", trainer.train_step, x, y, sample_weight, class_weight, reset_metrics)

    def test_on_batch(self, x, y, sample_weight=None, reset_metrics=True):
        return self._on_batch("test_on_batch", trainer.test_step, x, y, sample_weight, None, reset_metrics)

    def _on_batch(self, caller, step, x, y, sample_weight, class_weight, reset_metrics):
        self._require_compiled(caller)
        x, y, sample_weight = self._standardize_xy(x, y, sample_weight, class_weight, caller,
                                                   training=step is trainer.train_step)
        device = self.device
        tracker = self._on_batch_tracker
        if tracker is None or reset_metrics or tracker.device != device:
            tracker = self._on_batch_tracker = MetricsTracker(self.compiled_metrics, device)
        self.train(step is trainer.train_step)
        step(self, x.to(device), y.to(device), None if sample_weight is None else sample_weight.to(device), tracker)
        self.train(False)
        results = tracker.results()
        if step is trainer.train_step or reset_metrics:
            results["loss"] = tracker.last_batch_loss()  # Keras reports this batch's loss
        values = [results[name] for name in self.metrics_names]
        return values[0] if len(values) == 1 else values

    def predict_on_batch(self, x) -> np.ndarray:
        x = args.to_tensor(x, "x", "predict_on_batch")
        self._check_input(x, "predict_on_batch")
        self._ensure_built_for(x)
        self.to(backend.get_device())
        self.train(False)
        return trainer.predict_step(self, x.to(self.device)).cpu().numpy()

    def predict_proba(self, x, batch_size=32, verbose=0) -> np.ndarray:
        """Keras 2.3.1 Sequential.predict_proba: predict, warning when outputs are not probabilities."""
        preds = self.predict(x, batch_size=batch_size, verbose=verbose)
        if preds.min() < 0.0 or preds.max() > 1.0:
            warnings.warn("Network returning invalid probability values. The last layer might not normalize "
                          "predictions into probabilities (like softmax or sigmoid would).", stacklevel=2)
        return preds

    def predict_classes(self, x, batch_size=32, verbose=0) -> np.ndarray:
        """Keras 2.3.1: argmax over the last axis, or ``p > 0.5`` for a single output unit."""
        proba = self.predict(x, batch_size=batch_size, verbose=verbose)
        if proba.shape[-1] > 1:
            return proba.argmax(axis=-1)
        return (proba > 0.5).astype("int32")

    # ------------------------------------------------------------------ weights
    @property
    def weights(self) -> list[torch.Tensor]:
        return [w for layer in self.layers for w in layer.weights]

    @property
    def trainable_weights(self) -> list[torch.Tensor]:
        return [w for layer in self.layers for w in layer.trainable_weights]

    @property
    def non_trainable_weights(self) -> list[torch.Tensor]:
        return [w for layer in self.layers for w in layer.non_trainable_weights]

    def get_weights(self) -> list[np.ndarray]:
        """All weights, layer by layer, in Keras layouts."""
        return [w for layer in self.layers for w in layer.get_weights()]

    def set_weights(self, weights) -> None:
        """Set all weights from Keras-layout arrays; every shape is checked before any weight changes."""
        self._require_built("set_weights")
        weights = list(weights)
        counts = [len(layer.weights) for layer in self.layers]
        if len(weights) != sum(counts):
            raise ValueError(f"set_weights: this model expects {sum(counts)} weight arrays; received {len(weights)}.")
        chunks, start = [], 0
        for layer, count in zip(self.layers, counts):
            chunks.append((layer, weights[start:start + count]))
            start += count
        for layer, chunk in chunks:  # validate all shapes first
            for (tensor, layout), value in zip(layer._weight_tensors(), chunk):
                expected = layout.keras_shape(tuple(tensor.shape))
                if tuple(np.shape(value)) != expected:
                    raise ValueError(f"set_weights: layer {layer.name!r} expects a weight of shape {expected}; "
                                     f"received shape {tuple(np.shape(value))}.")
        for layer, chunk in chunks:
            layer.set_weights(chunk)

    def count_params(self) -> int:
        self._require_built("count_params")
        return sum(layer.count_params() for layer in self.layers)

    def summary(self, line_length=None, positions=None, print_fn=None) -> None:
        self._require_built("summary")
        print_summary(self, line_length=line_length, positions=positions, print_fn=print_fn)

    # ------------------------------------------------------------------ saving: all formats live in saving.py
    def save(self, filepath, overwrite=True, include_optimizer=True) -> None:
        """Architecture, weights, compile configuration and optimizer state in one file (atomic write)."""
        from kerasish import saving
        saving.save_model(self, filepath, overwrite=overwrite, include_optimizer=include_optimizer)

    def save_weights(self, filepath, overwrite=True) -> None:
        from kerasish import saving
        saving.save_weights(self, filepath, overwrite=overwrite)

    def load_weights(self, filepath, by_name=False, skip_mismatch=False, reshape=False) -> None:
        from kerasish import saving
        saving.load_weights(self, filepath, by_name=by_name, skip_mismatch=skip_mismatch, reshape=reshape)

    def to_json(self, **kwargs) -> str:
        from kerasish import saving
        return saving.model_to_json(self, **kwargs)

    def get_config(self) -> dict:
        from kerasish import saving
        return saving.sequential_config(self)

    @classmethod
    def from_config(cls, config, custom_objects=None) -> "Sequential":
        from kerasish import saving
        return saving.sequential_from_config(config, custom_objects=custom_objects, cls=cls)


# ---------------------------------------------------------------------------- helpers
def _single_output(loss, loss_weights, model):
    """Sequential has one output: accept ``loss``/``loss_weights`` as a value, a one-item list or a dict keyed by
    the output layer's name (as Keras does)."""
    if isinstance(loss, (list, tuple)):
        if len(loss) != 1:
            raise ValueError(f"compile: a Sequential model has 1 output, so loss must be one loss; received a list "
                             f"of {len(loss)}.")
        loss = loss[0]
    if isinstance(loss, dict):
        if len(loss) != 1:
            raise ValueError(f"compile: a Sequential model has 1 output; received losses for {sorted(loss)}.")
        loss = next(iter(loss.values()))
    weight = 1.0
    if loss_weights is not None:
        values = list(loss_weights.values()) if isinstance(loss_weights, dict) else (
            list(loss_weights) if isinstance(loss_weights, (list, tuple)) else [loss_weights])
        if len(values) != 1:
            raise ValueError(f"compile: loss_weights must have 1 entry for a Sequential model; received {loss_weights!r}.")
        weight = float(values[0])
    return loss, weight


def _batch_size_of(generator, default: int = 32) -> int:
    """Batch size for tuple validation data in fit_generator: the iterator's own batch size when it has one."""
    size = getattr(generator, "batch_size", None)
    return int(size) if isinstance(size, int) and size > 0 else default


def _user_callbacks(callbacks, caller: str) -> list:
    from kerasish.callbacks import Callback
    if callbacks is None:
        return []
    if isinstance(callbacks, Callback):
        callbacks = [callbacks]
    callbacks = list(callbacks)
    for cb in callbacks:
        if not isinstance(cb, Callback):
            raise TypeError(f"{caller}: callbacks must be a list of kerasish.callbacks.Callback instances; "
                            f"received {cb!r} of type {type(cb).__name__}.")
    return callbacks


def _rank_verbosity(verbose: int) -> int:
    """torchrun: only rank 0 prints (progress bars, "Train on ..."); the other ranks train silently."""
    return verbose if distributed.is_main_process() else 0


def _default_callbacks(verbose: int, stateful_metrics: list[str], count_mode: str) -> list:
    return [ProgbarLogger(count_mode=count_mode, stateful_metrics=stateful_metrics)] if verbose else []


def _progress_callbacks(verbose: int, num_samples: int, steps) -> list:
    """evaluate/predict progress bars (Keras 2.3.1 test_loop/predict_loop: a Progbar without values)."""
    if not verbose:
        return []
    from kerasish.callbacks.progbar_logger import EvaluationProgbar
    return [EvaluationProgbar(target=steps if steps is not None else num_samples,
                              count_mode="steps" if steps is not None else "samples", verbose=verbose)]


def load_model(filepath, custom_objects=None, compile=True) -> Sequential:
    """Load a model written by ``model.save``: safe by default (no pickle, no code from the file)."""
    from kerasish import saving
    return saving.load_model(filepath, custom_objects=custom_objects, compile=compile)


def model_from_json(json_string, custom_objects=None) -> Sequential:
    from kerasish import saving
    return saving.model_from_json(json_string, custom_objects=custom_objects)
