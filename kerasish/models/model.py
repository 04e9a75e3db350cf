"""``Model``: Keras 2's training API (compile, fit, evaluate, predict, generators, weights, saving) for every
kind of model: ``Sequential`` (sequential.py), the graph made by ``Model(inputs, outputs)`` (functional.py)
and ``Model`` subclasses with a ``call``.

The methods here are thin entry points: they check every argument (raising before any weight changes),
build the model, turn the data into an adapter and hand over to ``training.trainer``.

What a kind of model provides (the graph interface the rest of this file is written against):

=========================  ==================================================================================
``layers``                 the layers, in Keras's order (weights, summaries and files follow it)
``build(input_shape)``     create the weights for Keras input shape(s) with the batch dimension
``_build_for(x)``          build from the first batch when the input shape was not declared
``_run_graph(x, logits)``  Keras-layout tensors in, out; ``logits`` skips a final softmax/sigmoid
``_output_layer()``        the layer whose activation ``logits`` skips (None: no such layer)
``input_shape`` ...        Keras shapes with the batch dimension ``None``
=========================  ==================================================================================

What the loop reads from a model (training/trainer.py): ``optimizer``, ``compiled_loss``,
``compiled_metrics``, ``compute_output``, ``add_regularization``, ``apply_constraints``, ``final_activation``,
``device``, ``stop_training``, ``loss_scaler`` (mixed float16), ``data_parallel`` (torchrun) and
``resume_from`` (set by BackupAndRestore).
"""
from __future__ import annotations

import itertools
import json
import warnings

import numpy as np
import torch
from torch import nn

from kerasish import activations, backend, distributed, mixed_precision
from kerasish.backend import control
from kerasish import optimizers as optimizers_module
from kerasish.callbacks import CallbackList, History, ProgbarLogger
from kerasish.layers.base import Layer
from kerasish.layers.core import ActivatedLayer
from kerasish.training import arguments as args
from kerasish.training import nonfinite, trainer
from kerasish.training.compile_utils import (CompiledLoss, CompiledMetrics, MetricsTracker, MultiOutputLoss,
                                             MultiOutputMetrics, AddedLossesOnly, output_copies)
from kerasish.training.data_adapters import (get_data_adapter, get_stream_adapter, is_stream, runs_until_exhausted,
                                             stream_length, stream_source, torch_source, validation_source)
from kerasish.training.data_adapters.order import new_seed, replica_steps
from kerasish.training.data_adapters.standardize import BatchStandardizer, DataSpec, describe_batch
from kerasish.training.epoch_iterator import EpochIterator
from kerasish.training.jit import CompiledFunction, resolve_jit_compile
from kerasish.utils.nest import batch_rows, first_leaf, map_structure
from kerasish.utils.summary import print_summary

_FIT_ARGS = ["x", "y", "batch_size", "epochs", "verbose", "callbacks", "validation_split", "validation_data",
             "shuffle", "class_weight", "sample_weight", "initial_epoch", "steps_per_epoch", "validation_steps",
             "validation_freq", "max_queue_size", "workers", "use_multiprocessing"]


class Model(Layer):
    """A model: ``Model(inputs, outputs)`` (the functional API), ``Sequential([...])``, or a subclass that makes
    its layers in ``__init__`` and uses them in ``call(inputs, training=None)``."""

    _is_graph_network = False  # Keras 2.3.1's name: a Model subclass's graph is the code of its call
    _functional_class = None  # functional.py registers Functional: Model(inputs, outputs) makes one

    def __new__(cls, *args, **kwargs):
        # Keras: Model(inputs, outputs) makes a functional (graph) model; a subclass of Model is itself.
        if cls is Model and (args or {"inputs", "outputs", "input", "output"} & set(kwargs)):
            return super().__new__(Model._functional_class)
        return super().__new__(cls)

    def __init__(self, *args, name: str | None = None, **kwargs):
        if args:
            raise TypeError(f"{type(self).__name__}: unexpected positional arguments {args!r}; a Model subclass "
                            "passes only name=... (and layer keywords) to Model.__init__.")
        super().__init__(name=name or self._default_name(), **kwargs)
        self._init_training_state()
        nn.Module.train(self, False)  # inference until fit trains (Keras's learning phase 0 outside fit)

    def _default_name(self) -> str:
        from kerasish.utils.generic_utils import to_snake_case
        prefix = to_snake_case(type(self).__name__)
        return f"{prefix}_{backend.get_uid(prefix)}"

    def _init_training_state(self) -> None:
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

    def train(self, mode: bool = True):
        """torch's ``train``; also the learning phase ``K.learning_phase()`` reads while none is fixed."""
        control.follow_model_mode(mode)
        return super().train(mode)

    # ------------------------------------------------------------------ the graph interface (see above)
    @property
    def layers(self) -> list[Layer]:
        """Subclassed models: the layers assigned as attributes, in the order they were assigned."""
        return [m for m in self.children() if isinstance(m, Layer)]

    def _build_for(self, x) -> None:
        """Subclassed models build by running ``call`` once on the first batch (its layers build on first use)."""
        if self.__dict__.get("_built_output_shape") is None:
            with torch.no_grad():
                was_training = self.training
                self.train(False)
                try:
                    out = self(x)
                finally:
                    self.train(was_training)
            self.__dict__["_built_output_shape"] = (None,) + tuple(out.shape[1:])
            self.__dict__["_built_output_dtype"] = out.dtype
            self.built = True
            self._penalty_layers_cache = None

    @property
    def output_shape(self):
        if self._inbound_nodes:
            return Layer.output_shape.fget(self)
        self._require_built("output_shape")
        return self.__dict__.get("_built_output_shape")

    def _run_graph(self, x, logits: bool):
        return self(x)

    def _output_layer(self):
        return None

    def call(self, inputs, training=None, mask=None):
        raise NotImplementedError(f"{type(self).__name__}: a Model subclass must implement "
                                  "call(self, inputs, training=None).")

    def get_layer(self, name: str | None = None, index: int | None = None) -> Layer:
        """A layer by name or by index in ``layers`` (Keras 2.3.1 ``Network.get_layer``)."""
        layers = self.layers
        if index is not None:
            if len(layers) <= index:
                raise ValueError(f"Was asked to retrieve layer at index {index} but model only has "
                                 f"{len(layers)} layers.")
            return layers[index]
        if not name:
            raise ValueError("Provide either a layer name or layer index.")
        for layer in layers:
            if layer.name == name:
                return layer
        from kerasish.utils.validation import did_you_mean  # issue 15: every name lookup suggests the closest
        names = [layer.name for layer in layers]
        raise ValueError(f"No such layer: {name}.{did_you_mean(name, names)} Existing layers are: {names}.")

    def _current_device(self) -> torch.device:
        for tensor in itertools.chain(self.parameters(), self.buffers()):
            return tensor.device
        return torch.device("cpu")

    @property
    def device(self) -> torch.device:
        return self._current_device()

    def _require_built(self, what: str) -> None:
        if not self.built:
            raise ValueError(f"{what}: This model has not yet been built. Build the model first by calling "
                             "build() or calling fit() with some data. Or specify input_shape or "
                             "batch_input_shape in the first layer for automatic build.")

    # ------------------------------------------------------------------ forward
    def compute_output(self, x, training: bool, logits: bool | None = None):
        """The forward pass used by the loop: ``(output, is_logits)``. When the loss absorbs the final
        softmax/sigmoid, the output is the logits so the loss is computed stably."""
        use_logits = self._loss_from_logits if logits is None else logits
        forward = self._forward_impl or self._cast_and_run
        if training and self._data_parallel is not None:
            forward = self._data_parallel  # torchrun: DDP's hooks average the gradients of this forward
        if self.dtype_policy.autocast_dtype is None:  # float32: no context to enter and leave every step
            return forward(x, logits=use_logits), use_logits
        with self.dtype_policy.autocast(first_leaf(x).device):
            output = forward(x, logits=use_logits)
        return map_structure(lambda t: t.float(), output), use_logits

    def _cast_and_run(self, x, logits: bool):
        # each input in its dtype: integer images are cast on the device, batch by batch
        if isinstance(x, list):
            x = [_cast_input(t, dtype) for t, dtype in zip(x, self._input_dtypes())]
        else:
            x = _cast_input(x, self._input_dtypes()[0])
        return self._run_graph(x, logits)

    # ------------------------------------------------------------------ dtypes (floatx, layer dtype=)
    def _input_dtypes(self) -> list[torch.dtype]:
        """The dtype each input is fed in (Keras feeds placeholders of the model's input dtypes)."""
        return [backend.torch_floatx()]

    def _target_dtypes(self) -> list[torch.dtype]:
        """The dtype float targets are cast to, per output: the output's (Keras 2.3.1 ``compile`` makes each
        target placeholder with ``K.dtype(output)``)."""
        return [self.__dict__.get("_built_output_dtype") or backend.torch_floatx()]

    @property
    def _accumulator_dtype(self) -> torch.dtype:
        """The dtype of the loss and metric totals of an epoch (see ``MetricsTracker``)."""
        return torch.float64 if torch.float64 in self._target_dtypes() else torch.float32

    def _check_loss_scaling(self) -> None:
        # torch's GradScaler unscales float32 gradients only ("Attempting to unscale FP16 gradients")
        if self.dtype_policy.needs_loss_scaling and any(p.dtype == torch.float16 for p in self.parameters()):
            raise ValueError(f"fit: dtype_policy={self.dtype_policy.name!r} keeps float32 weights and scales the "
                             "loss, but this model has float16 weights (floatx 'float16' or a layer's dtype). "
                             "Use one or the other: float32 weights with the policy, or float16 weights without it.")

    def final_activation(self, logits: torch.Tensor) -> torch.Tensor:
        return self._output_layer().apply_activation(logits)

    def _update_logits_path(self) -> None:
        last = self._output_layer()
        self._loss_from_logits = bool(
            self.compiled_loss is not None and isinstance(last, ActivatedLayer)
            and self.compiled_loss.absorbable_activation is not None
            and last.activation is getattr(activations, self.compiled_loss.absorbable_activation))

    def _all_layers(self) -> list[Layer]:
        """Every layer inside, nested models opened up (regularizers and constraints live on these)."""
        return [m for m in self.modules() if isinstance(m, Layer) and not isinstance(m, Model)]

    def add_regularization(self, loss: torch.Tensor) -> torch.Tensor:
        """The loss plus weight and activity penalties and the losses layers and the model added (add_loss)."""
        penalties = [p for layer in self._penalty_layers()[0] for p in layer.regularization_losses()]
        penalties += self._graph_loss_terms()
        if self._call_losses:  # (assigning a module attribute every step costs nn.Module.__setattr__'s checks)
            penalties += [loss_() if callable(loss_) else loss_ for loss_ in self._call_losses]
            self._call_losses = []
        return loss + torch.stack([p.to(loss.dtype) for p in penalties]).sum() if penalties else loss

    def _graph_loss_terms(self) -> list:
        return []

    def _has_added_losses(self) -> bool:
        return False

    def _has_output_masks(self) -> bool:
        return False

    def _last_output_masks(self):
        """Per output, the mask the last forward pass gave it (graph models); None: no output has one."""
        return None

    def apply_constraints(self) -> None:
        for layer in self._penalty_layers()[1]:
            layer.apply_constraints()

    def _penalty_layers(self) -> tuple[list, list]:
        """``(layers with regularizers or call losses, layers with constraints)``, found once and kept rather than
        by walking every layer at every training step (a few microseconds of a small step, for nothing). Keras 2
        collects a model's losses when it is compiled; the lists are found again after ``compile`` and whenever
        the graph changes (``add``, ``pop``, a first build)."""
        if self._penalty_layers_cache is None:
            layers = self._all_layers()
            # layers of user classes may add_loss in call
            penalized = [layer for layer in layers if layer._weight_penalties or layer.activity_regularizer is not None
                         or not type(layer).__module__.startswith("kerasish.")]
            constrained = [layer for layer in layers
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
        if loss is None and not self._has_added_losses():
            raise ValueError("compile: loss is required, e.g. loss='categorical_crossentropy', unless the model "
                             "has losses of its own (model.add_loss(...) before compile); received None.")
        if target_tensors is not None:
            raise ValueError("compile: target_tensors is a TensorFlow graph feature with no torch equivalent; "
                             "pass the targets to fit() instead.")
        if sample_weight_mode not in (None, "temporal"):
            raise ValueError(f"compile: sample_weight_mode must be None or 'temporal'; received {sample_weight_mode!r}.")
        if loss is None:  # only the model's own add_loss losses (a VAE)
            compiled_loss = AddedLossesOnly()
            compiled_metrics = CompiledMetrics(metrics, weighted_metrics, None, self.output_shape if self.built else None)
        elif len(self.output_names) > 1:
            compiled_loss, compiled_metrics = _compile_outputs(self, loss, loss_weights, metrics, weighted_metrics,
                                                               sample_weight_mode)
        else:
            loss, loss_weight = _single_output(loss, loss_weights, self)
            compiled_loss = CompiledLoss(loss, loss_weight, sample_weight_mode)
            output_shape = self.output_shape if self.built else None
            compiled_metrics = CompiledMetrics(metrics, weighted_metrics, compiled_loss.fn, output_shape)
        _add_graph_metrics(self, compiled_metrics)
        resolved_optimizer = optimizers_module.get(optimizer)
        policy = mixed_precision.Policy(dtype_policy) if dtype_policy is not None else mixed_precision.global_policy()
        resolve_jit_compile(jit_compile, torch.device("cpu"))  # validates the value
        # Everything validated: now change the model.
        self.optimizer = resolved_optimizer
        self._optimizer_spec = resolved_optimizer
        self.compiled_loss = compiled_loss
        self.compiled_metrics = compiled_metrics
        self._bound_to = None
        self._compile_args = {"metrics": metrics, "weighted_metrics": weighted_metrics, "loss_weights": loss_weights,
                              "jit_compile": jit_compile,
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
        self._build_for(x)
        self.to(backend.get_device())
        if self.compiled_loss is not None:
            # metric resolution may depend on the output shape ('acc' with 1 unit -> binary accuracy)
            if self.compiled_metrics is not None and self.compiled_metrics.output_shape is None:
                self.compiled_metrics = CompiledMetrics(self._compile_args["metrics"],
                                                        self._compile_args["weighted_metrics"],
                                                        self.compiled_loss.fn, self.output_shape)
                _add_graph_metrics(self, self.compiled_metrics)
            self._update_logits_path()
            self._prepare_execution()
            if training:
                self._check_loss_scaling()
                self._bind_optimizer()
                self._wrap_data_parallel()

    def _prepare_execution(self) -> None:
        """Loss scaler and (optionally) the torch.compile'd forward, for the current device."""
        device = self.device
        if self._grad_scaler is None and self.dtype_policy.needs_loss_scaling:
            self._grad_scaler = self.dtype_policy.grad_scaler(device)
        options = resolve_jit_compile(self._compile_args["jit_compile"], device)
        if options is not None and self._forward_impl is None:
            self._forward_impl = CompiledFunction(self._cast_and_run, options)

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
        return (self._forward_impl or self._cast_and_run)(x, logits=logits)

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
    def _data_spec(self) -> DataSpec:
        """What the data must look like for this model (host metadata; see data_adapters/standardize.py)."""
        several = len(self.output_names) > 1
        losses = (self.compiled_loss.losses if several else [self.compiled_loss]) if self.compiled_loss else []
        return DataSpec(input_names=self.input_names, input_shapes=self._input_shapes(),
                        input_dtypes=self._input_dtypes(), target_dtypes=self._target_dtypes(),
                        output_names=self.output_names, output_shapes=self._output_shapes(),
                        output_losses=losses,
                        sample_weight_mode=self.compiled_loss.sample_weight_mode if self.compiled_loss else None)

    def _standardizer(self, caller: str) -> BatchStandardizer:
        return BatchStandardizer(self._data_spec(), caller)

    def _input_shapes(self) -> list:
        """Each input's Keras shape once known (graph models), else None (no check)."""
        return [None]

    def _output_shapes(self) -> list:
        return [self.output_shape if self.built else None]

    @property
    def input_names(self) -> list[str]:
        return ["input_1"]

    @property
    def output_names(self) -> list[str]:
        return ["output_1"]

    def _standardize_xy(self, x, y, sample_weight, class_weight, caller: str, training: bool = False):
        x = self._standardizer(caller).inputs(x, allow_lazy=True)
        if y is None and isinstance(self.compiled_loss, AddedLossesOnly):
            args.check_same_length(caller, x)
            self._prepare(x, training)
            return x, None, None
        if y is None:
            raise ValueError(f"{caller}: y is required with array inputs; received None.")
        args.check_same_length(caller, x, y, sample_weight)
        self._prepare(x, training)
        standardizer = self._standardizer(caller)  # the model may have been built just now: full shapes
        y = standardizer.targets(y)
        weights = standardizer.sample_weights(sample_weight, y, standardizer.class_weights(class_weight))
        return x, y, weights

    def _seed(self) -> int:
        if self._shuffle_seed is None:
            self._shuffle_seed = distributed.broadcast_int(new_seed())  # torchrun: rank 0's, for the same order
        return self._shuffle_seed

    def _array_iterator(self, tensors, batch_size: int, steps=None, shuffle=False, caller="fit") -> EpochIterator:
        adapter = get_data_adapter(tensors, batch_size=batch_size, shuffle=shuffle, seed=self._seed(),
                                   device=self.device)
        return EpochIterator(adapter, steps, caller=caller)

    def _stream_iterator(self, source, steps, steps_name: str, caller: str, *, training: bool, need_targets=True,
                         class_weight=None, shuffle=False, workers=1, use_multiprocessing=False,
                         max_queue_size=10) -> EpochIterator:
        """A generator/Sequence/image iterator/torch data as an EpochIterator. Builds the model from a peeked first batch
        when needed; the first batch's shapes and targets are checked like arrays are."""
        steps = args.check_positive_int(steps, steps_name, caller, allow_none=True)
        source = stream_source(source, steps)
        data_name = _STREAM_ARGUMENT[steps_name]
        length = stream_length(source)
        source_name = _source_name(source, length)  # in errors about its batches
        if length == 0:
            if hasattr(source, "peek_batch"):
                source.peek_batch(caller)  # raises its own error, naming the empty torch Dataset or DataLoader
            # Keras 2.3.1 fails later and obscurely here (an empty History, IndexError in evaluate_generator)
            raise ValueError(f"{caller}: {data_name} is an empty {source_name} (len() is 0); it must "
                             "hold at least one batch.")
        if steps is None:
            steps = length
        if steps is None and not runs_until_exhausted(source):
            # Keras 2.3.1 training_generator.py wording
            raise ValueError(f"{caller}: `{steps_name}=None` is only valid for a generator based on the "
                             f"`keras.utils.Sequence` class. Please specify `{steps_name}` or use the "
                             "`keras.utils.Sequence` class.")
        first = None
        if source_name == "generator":  # its first item (served first) tells an empty generator at once
            first = _first_item(source, caller, data_name)
        if not self.built or self.device != backend.get_device() or (training and self._bound_to is None):
            raw_x = self._peek(source, caller, need_targets, first)
            first_name = describe_batch(source_name, 0 if length is None else (0,))
            self._prepare(self._standardizer(f"{caller} ({first_name})").inputs(raw_x), training)
        standardizer = self._standardizer(caller)
        prepare = standardizer.batch_preparer(self.device, need_targets, standardizer.class_weights(class_weight),
                                              source_name, monitor=self._checked_once(source, caller, need_targets))
        adapter = get_stream_adapter(source, prepare=prepare, device=self.device, shuffle=shuffle, seed=self._seed(),
                                     workers=workers, use_multiprocessing=use_multiprocessing,
                                     max_queue_size=max_queue_size, first_batch=first)
        if getattr(adapter, "sharded", False) and not getattr(adapter, "global_batches", False):
            # torchrun: each step takes one Sequence batch per replica, so `steps` Sequence batches (one pass by
            # default) take ceil(steps / W) steps.
            steps = replica_steps(steps, adapter.shard)
        iterator = EpochIterator(adapter, steps, caller=caller, steps_name=steps_name)
        iterator.monitor = prepare.monitor  # NaN/inf in the batches, read with the logs
        return iterator

    def _checked_once(self, source, caller: str, need_targets: bool) -> nonfinite.KnownFindings | None:
        """A stream that is rows of in-memory tensors (a TensorDataset) is checked for NaN/inf once, as arrays
        are, instead of every batch of every epoch: its findings; None for the other streams."""
        fixed = getattr(source, "fixed_tensors", None)
        if fixed is None or len(self.input_names) != 1 or len(self.output_names) != 1:
            return None
        checked = list(fixed if need_targets else fixed[:1])
        return self._check_finite(caller, checked + [None] * (3 - len(checked)))

    def _check_finite(self, caller: str, tensors) -> nonfinite.KnownFindings:
        """NaN/inf in in-memory ``[x, y, sample_weight]``: one pass per call, warned once (nonfinite.py)."""
        return nonfinite.KnownFindings(nonfinite.check_arrays(caller, *tensors, input_names=self.input_names,
                                                              output_names=self.output_names))

    def _peek(self, source, caller: str, need_targets, first):
        """The x of a source's first batch, to build the model (``first``: a plain generator's, already drawn)."""
        if hasattr(source, "peek_batch"):  # torch data (data_adapters/torch_data.py)
            raw = source.peek_batch(caller)
        elif hasattr(source, "batch_tensors"):
            raw = source.batch_tensors(0, torch.device("cpu"))
        elif first is None:
            raw = source[0]
        else:
            raw = first
        x, _, _ = args.unpack_batch(raw, caller, need_targets)
        return x

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

        ``x`` may also be a generator, a ``Sequence`` or an ImageDataGenerator iterator (then as fit_generator),
        or torch data (data_adapters/torch_data.py): a ``DataLoader`` used as given (no ``batch_size``), a
        map-style ``Dataset`` loaded by kerasish with ``batch_size``/``shuffle``, or an ``IterableDataset``.
        """
        caller = "fit"
        if "nb_epoch" in kwargs:
            warnings.warn("The `nb_epoch` argument in `fit` has been renamed `epochs`.", stacklevel=2)
            epochs = kwargs.pop("nb_epoch")
        args.reject_unknown_kwargs(kwargs, _FIT_ARGS, caller)
        validation_data = validation_source(validation_data, batch_size)  # a Dataset: batched as x
        x, batch_size = torch_source(x, caller, batch_size=batch_size, shuffle=shuffle, y=y,
                                     sample_weight=sample_weight, validation_split=validation_split)
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
        train_iterator.monitor = self._check_finite(caller, train_tensors)
        if val_tensors is not None:  # rows counted from the start of the validation part
            self._check_finite(caller + (" (validation_data)" if validation_data is not None else
                                         " (validation_split part)"), val_tensors)
        cbks = self._fit_callbacks(callback_list, verbose, "samples" if steps_per_epoch is None else "steps",
                                   {"batch_size": batch_size, "epochs": epochs, "steps": steps_per_epoch,
                                    "samples": batch_rows(train_tensors[0]), "do_validation": val_iterator is not None},
                                   val_tensors)
        if verbose and val_tensors is not None and steps_per_epoch is None:
            print(f"Train on {batch_rows(train_tensors[0])} samples, validate on {batch_rows(val_tensors[0])} samples")
        trainer.run_fit(self, train_iterator, epochs=epochs, initial_epoch=initial_epoch, callbacks=cbks,
                        validation=val_iterator, validation_freq=validation_freq)
        return self.history

    # Keras 1 argument names of the three *_generator methods are converted before they run, as Keras 2.3.1's
    # legacy_generator_methods_support does (layers/legacy_arguments.DECORATED)
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
            raise TypeError(f"{caller}: generator must be a Python generator, a kerasish.utils.Sequence, an "
                            f"ImageDataGenerator iterator or torch data (a DataLoader or Dataset); received "
                            f"{type(generator).__name__}. For arrays use fit().")
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
            val_iterator = self._array_iterator(val_tensors, _batch_size_of(generator), validation_steps,
                                                caller=caller)
            self._check_finite(caller + " (validation_data)", val_tensors)
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
        x, batch_size = torch_source(x, caller, batch_size=batch_size, y=y, sample_weight=sample_weight)
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
        iterator = self._array_iterator(tensors, batch_size, steps, caller=caller)
        self._check_finite(caller, tensors)
        return self._evaluate(iterator, callback_list, verbose, batch_rows(tensors[0]))

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
        x, batch_size = torch_source(x, caller, batch_size=batch_size)
        if is_stream(x):
            args.check_generator_arguments(caller, batch_size=batch_size)
            return self.predict_generator(x, steps=steps, callbacks=callbacks, max_queue_size=max_queue_size,
                                          workers=workers, use_multiprocessing=use_multiprocessing, verbose=verbose)
        batch_size = args.check_positive_int(32 if batch_size is None else batch_size, "batch_size", caller)
        verbose = _rank_verbosity(args.check_verbose(verbose, caller))
        steps = args.check_positive_int(steps, "steps", caller, allow_none=True)
        callback_list = _user_callbacks(callbacks, caller)
        x = self._standardizer(caller).inputs(x, allow_lazy=True)
        args.check_same_length(caller, x)
        self._build_for(x)
        self.to(backend.get_device())
        iterator = self._array_iterator([x], batch_size, steps, caller=caller)
        return self._predict(iterator, callback_list, verbose, batch_rows(x))

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
            tracker = self._on_batch_tracker = MetricsTracker(self.compiled_metrics, device,
                                                              self._accumulator_dtype, self._has_output_masks())
        self.train(step is trainer.train_step)
        x, y, sample_weight = (map_structure(lambda t: None if t is None else t.to(device), t)
                               for t in (x, y, sample_weight))
        try:
            step(self, x, y, sample_weight, tracker)
        except (RuntimeError, IndexError) as err:
            trainer.raise_explained(err, self, x, y, caller)
        self.train(False)
        results = tracker.results()
        if step is trainer.train_step or reset_metrics:
            results["loss"] = tracker.last_batch_loss()  # Keras reports this batch's loss
        values = [results[name] for name in self.metrics_names]
        return values[0] if len(values) == 1 else values

    def predict_on_batch(self, x) -> np.ndarray:
        x = self._standardizer("predict_on_batch").inputs(x)
        self._build_for(x)
        self.to(backend.get_device())
        self.train(False)
        device = self.device
        output = trainer.predict_step(self, map_structure(lambda t: t.to(device), x))
        return map_structure(backend.to_numpy, output)

    # ------------------------------------------------------------------ weights
    def _weight_tensors(self):
        return [pair for layer in self.layers for pair in layer._weight_tensors()]

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

    # ------------------------------------------------------------------ stateful layers (Keras 2.3.1 Network)
    @property
    def stateful(self) -> bool:
        """Whether a layer inside keeps states from batch to batch (a stateful RNN)."""
        return any(getattr(layer, "stateful", False) for layer in self._all_layers())

    def reset_states(self) -> None:
        """Zero the states of every stateful layer inside."""
        for layer in self._all_layers():
            if getattr(layer, "stateful", False) and hasattr(layer, "reset_states"):
                layer.reset_states()

    # ------------------------------------------------------------------ saving: all formats live in saving.py
    def save(self, filepath, overwrite=True, include_optimizer=True, save_format=None) -> None:
        """Architecture, weights, compile configuration and optimizer state in one file (atomic write):
        Keras 2 HDF5 for ``.h5``/``.hdf5`` names, else kerasish's format; tf.keras's ``save_format`` overrides."""
        from kerasish import saving
        saving.save_model(self, filepath, overwrite=overwrite, include_optimizer=include_optimizer,
                          save_format=save_format)

    def save_weights(self, filepath, overwrite=True, save_format=None) -> None:
        from kerasish import saving
        saving.save_weights(self, filepath, overwrite=overwrite, save_format=save_format)

    def load_weights(self, filepath, by_name=False, skip_mismatch=False, reshape=False) -> None:
        from kerasish import saving
        saving.load_weights(self, filepath, by_name=by_name, skip_mismatch=skip_mismatch, reshape=reshape)

    def to_json(self, **kwargs) -> str:
        from kerasish import saving
        return saving.model_to_json(self, **kwargs)

    def to_yaml(self, **kwargs) -> str:
        """Keras 2.3.1 ``Network.to_yaml``: what ``to_json`` writes (``class_name``, ``config``, ``keras_version``,
        ``backend``) as YAML; ``kwargs`` go to ``yaml.dump``; ``model_from_yaml`` reads it back. Keras dumps its
        config with Python tuples tagged ``!!python/tuple``; here the JSON-ready config is dumped, so shapes are
        plain YAML lists that any safe YAML loader reads (Keras's ``model_from_yaml`` reads them too)."""
        try:
            import yaml
        except ImportError:
            raise ImportError("Requires yaml module installed (`pip install pyyaml`).") from None
        return yaml.dump(json.loads(self.to_json()), **kwargs)

    # ------------------------------------------------------------------ config
    def get_config(self) -> dict:
        # Keras 2.3.1 Network.get_config raises NotImplementedError for subclassed models, without a message
        raise NotImplementedError(f"get_config: {self.name} is a subclassed model: its graph is the Python code of "
                                  f"its call method, which a config cannot hold. Save its weights with "
                                  f"save_weights(filepath), then rebuild it in code and call load_weights(filepath).")

    @classmethod
    def from_config(cls, config, custom_objects=None):
        """Keras 2.3.1 ``Model.from_config``: the functional model a ``get_config()`` describes. Each layer is
        made from its config (classes and functions of yours come from ``custom_objects``) and called on the
        tensors its ``inbound_nodes`` name (models/graph_config.py)."""
        from kerasish.models.graph_config import functional_from_config
        functional = Model._functional_class
        return functional_from_config(config, custom_objects, cls if issubclass(cls, functional) else functional)

# ---------------------------------------------------------------------------- helpers
# The argument holding the stream, by the name of its steps argument (for error messages).
_STREAM_ARGUMENT = {"steps_per_epoch": "generator", "validation_steps": "validation_data", "steps": "generator"}


def _source_name(source, length) -> str:
    """A stream as errors about its batches name it: ``generator`` for a plain one (no length, no peek)."""
    if hasattr(source, "peek_batch"):
        return source.kind
    return "generator" if length is None else type(source).__name__


def _first_item(generator, caller: str, data_name: str):
    """``next(generator)``; an exhausted generator is an error that says so (Keras 2.3.1 lets a bare
    ``StopIteration`` out)."""
    try:
        return next(generator)
    except StopIteration:
        raise ValueError(f"{caller}: {data_name} yielded no batches (it is empty or already exhausted); pass a "
                         "generator that yields (x, y) tuples, e.g. one that loops with `while True:`.") from None


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


class _AddedMetric:
    """A metric given by ``model.add_metric(tensor, name)``: its value in this step, counted once per sample."""

    def __init__(self, model, index: int):
        self.model = model
        self.index = index

    def __call__(self, y_true, y_pred):
        value = self.model.__dict__["_graph_metric_values"][self.index]
        value = value.mean() if value.dim() else value
        return value.expand(batch_rows(y_pred))


def _cast_input(x: torch.Tensor, wanted: torch.dtype) -> torch.Tensor:
    if x.dtype == wanted or (x.is_floating_point() and mixed_precision.autocast_enabled(x.device)):
        return x
    return x.to(wanted)


def _add_graph_metrics(model, compiled_metrics) -> None:
    """add_metric names come after the compiled metrics (Keras 2.3.1), before the weighted ones (the tracker keeps
    weighted metrics last)."""
    graph_metrics = model.__dict__.get("_graph_metrics", [])
    if not graph_metrics:
        return
    entries = compiled_metrics.entries
    at = next((i for i, (_, _, weighted) in enumerate(entries) if weighted), len(entries))
    added = [(name, _AddedMetric(model, i), False) for i, (name, _) in enumerate(graph_metrics)]
    entries[at:at] = added
    compiled_metrics.argmax_only = False  # these read the model's own tensors, not the output's argmax


def _compile_outputs(model, loss, loss_weights, metrics, weighted_metrics, sample_weight_mode):
    """compile for a model of several outputs (Keras 2.3.1): ``loss`` one for all, a list in output order or a
    dict by output name (an output left out of the dict is not trained, with Keras's warning); ``loss_weights``
    and ``metrics`` alike (metrics as one list for every output, a list of lists, or a dict)."""
    names = model.output_names
    losses = _per_output(loss, names, "loss", broadcast=not isinstance(loss, (list, dict)))
    for name, value in zip(names, losses):
        if value is None:
            warnings.warn(f"Output {name} missing from loss dictionary. We assume this was done on purpose. The "
                          f"fit and evaluate APIs will not be expecting any data to be passed to {name}.",
                          stacklevel=3)
    weights = [1.0 if w is None else float(w) for w in
               (_per_output(loss_weights, names, "loss_weights", broadcast=False) if loss_weights is not None
                else [1.0] * len(names))]
    compiled = [CompiledLoss(value, 1.0, sample_weight_mode) if value is not None else None for value in losses]
    multi_loss = MultiOutputLoss(compiled, weights, names, sample_weight_mode)
    nested = isinstance(metrics, dict) or (isinstance(metrics, (list, tuple)) and metrics
                                           and all(isinstance(m, (list, tuple)) for m in metrics))
    per_output_metrics = _per_output(metrics, names, "metrics", broadcast=not nested) if metrics else [None] * len(names)
    if metrics and not nested:
        per_output_metrics = [output_copies(m) for m in per_output_metrics]
    weighted_nested = isinstance(weighted_metrics, dict) or (
        isinstance(weighted_metrics, (list, tuple)) and weighted_metrics
        and all(isinstance(m, (list, tuple)) for m in weighted_metrics))
    per_output_weighted = _per_output(weighted_metrics, names, "weighted_metrics", broadcast=not weighted_nested) \
        if weighted_metrics else [None] * len(names)
    if weighted_metrics and not weighted_nested:
        per_output_weighted = [output_copies(m) for m in per_output_weighted]
    shapes = model._output_shapes()
    per_output = [CompiledMetrics(m, wm, c.fn if c is not None else None, shape)
                  for m, wm, c, shape in zip(per_output_metrics, per_output_weighted, compiled, shapes)]
    return multi_loss, MultiOutputMetrics(multi_loss, per_output)


def _per_output(value, names: list, arg_name: str, broadcast: bool) -> list:
    if isinstance(value, dict):
        unknown = [k for k in value if k not in names]
        if unknown:
            raise ValueError(f"compile: unknown entries in {arg_name} dictionary: {unknown}. Only expected the "
                             f"following keys: {names}")
        return [value.get(name) for name in names]
    if isinstance(value, (list, tuple)) and not broadcast:
        if len(value) != len(names):
            raise ValueError(f"compile: when passing a list as {arg_name}, it should have one entry per model "
                             f"output. The model has {len(names)} outputs, but you passed {arg_name}={value!r}")
        return list(value)
    return [value] * len(names)


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
