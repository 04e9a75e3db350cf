"""Symbolic tensors of the functional API: ``Input(shape=(784,))`` and what layers and ops make from it.

A ``KerasTensor`` holds no data. It is a torch tensor on the ``meta`` device (so every tensor method and
torch function applies to it), plus a twin of other sizes: a dimension the two disagree on is unknown, ``None``
in Keras's shape. Shapes are inferred by running the real code twice on meta tensors, once for each set of
example sizes, so there is one implementation per layer and no ``compute_output_shape`` to keep in sync (a
layer that cannot run on meta tensors, say one that reads a value, runs on small zero tensors instead).

Torch functions applied to KerasTensors outside a layer (``K.mean(z)``, ``1 + z_log_var``, ``x[:, 0]``) are
recorded as graph operations (``TorchOp``), as tf.keras 2.4+ records TensorFlow ops, so a VAE can build its
KL term from symbolic tensors and ``add_loss`` it.
"""
from __future__ import annotations

import torch
from torch.func import functional_call

from kerasish.layers.node import Node
from kerasish.utils.nest import flatten, map_structure

# Sizes that stand in for unknown dimensions: (batch dimension, any other dimension) in each of the two runs.
# The non-batch sizes stay apart through the five halvings of an ImageNet model (97 -> 4, 139 -> 5) and are above
# the 75-pixel minimum of the Inception stems' valid convolutions; on meta tensors their size costs nothing.
_EXAMPLE_SIZES = ((2, 97), (3, 139))

_DISABLED = torch._C.DisableTorchFunctionSubclass


class SymbolicValueError(TypeError):
    """A symbolic tensor was asked for a value (``float(x)``, ``x.numpy()``, ``if x:``)."""


class KerasTensor(torch.Tensor):
    """The output of ``Input`` or of a layer called on KerasTensors: a Keras shape (batch dim ``None``), a dtype,
    and ``_keras_history = (layer or op, node_index, tensor_index)`` naming the node that made it."""

    _twin: torch.Tensor
    _keras_history: tuple
    _keras_mask = None  # the KerasTensor of this tensor's mask (Keras 2.3.1 masking), or None

    @staticmethod
    def from_examples(first: torch.Tensor, second: torch.Tensor) -> "KerasTensor":
        with _DISABLED():
            tensor = first.detach().as_subclass(KerasTensor)
        tensor._twin = second.detach()
        tensor._keras_history = None
        return tensor

    @property
    def shape(self) -> tuple:
        """Keras's shape: a tuple whose unknown dimensions (the batch dimension at least) are ``None``."""
        with _DISABLED():
            first, second = tuple(torch.Tensor.size(self)), tuple(self._twin.size())
        return tuple(a if a == b else None for a, b in zip(first, second))

    def examples(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The two plain meta tensors this symbolic tensor stands for."""
        with _DISABLED():
            return self.as_subclass(torch.Tensor), self._twin

    @property
    def name(self) -> str:
        operation, node_index, tensor_index = self._keras_history
        return f"{operation.name}/{node_index}:{tensor_index}"

    def __repr__(self) -> str:
        maker = f", created by layer '{self._keras_history[0].name}'" if self._keras_history else ""
        return f"<KerasTensor shape={self.shape} dtype={str(self.dtype).replace('torch.', '')}{maker}>"

    __str__ = __repr__

    def __format__(self, spec) -> str:
        return format(repr(self), spec)

    def __len__(self):
        raise SymbolicValueError(f"len() of a symbolic tensor is not defined (its batch size is unknown): {self!r}. "
                                 "Use K.int_shape(x) for the static shape, or K.shape(x) inside a Lambda layer.")

    def __hash__(self):
        return id(self)

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if func in _VALUE_READS:
            raise SymbolicValueError(
                f"{_func_name(func)}: a symbolic tensor (from Input or a layer called on one) holds no value yet. "
                "Build the model, then call model.predict(...) or K.function(inputs, outputs) to get values, "
                "or compute inside a Lambda layer, where tensors are real.")
        if func is torch.Tensor.size:
            shape = args[0].shape
            return shape if len(args) < 2 and "dim" not in kwargs else shape[args[1] if len(args) > 1 else kwargs["dim"]]
        if func in _PASS_THROUGH:
            with _DISABLED():
                return func(*_first_examples(args), **_first_examples(kwargs))
        return record_op(func, args, kwargs)


_VALUE_READS = {torch.Tensor.item, torch.Tensor.tolist, torch.Tensor.numpy, torch.Tensor.__bool__,
                torch.Tensor.__int__, torch.Tensor.__float__, torch.Tensor.__index__, torch.Tensor.__array__,
                torch.Tensor.cpu, torch.Tensor.cuda}
# Metadata reads: answered from the first example, never recorded.
_PASS_THROUGH = {torch.Tensor.dim, torch.Tensor.ndimension, torch.Tensor.__getattribute__,
                 torch.Tensor.dtype.__get__, torch.Tensor.ndim.__get__, torch.Tensor.device.__get__,
                 torch.Tensor.is_floating_point, torch.Tensor.requires_grad.__get__, torch.Tensor.layout.__get__,
                 torch.Tensor.element_size, torch.Tensor.is_complex, torch.Tensor.__reduce_ex__,
                 torch.Tensor.__setstate__, torch.Tensor.__deepcopy__}


def _func_name(func) -> str:
    return getattr(func, "__name__", None) or repr(func)


def is_keras_tensor(x) -> bool:
    return isinstance(x, KerasTensor)


def any_symbolic(structure) -> bool:
    return any(isinstance(leaf, KerasTensor) for leaf in flatten(structure))


def _first_examples(structure):
    return map_structure(lambda t: t.examples()[0] if isinstance(t, KerasTensor) else t, structure)


def _second_examples(structure):
    return map_structure(lambda t: t.examples()[1] if isinstance(t, KerasTensor) else t, structure)


def symbolic_input(shape: tuple, dtype) -> KerasTensor:
    """A KerasTensor of Keras shape ``shape`` (``None`` for unknown dimensions, the batch one first) and dtype
    (a torch dtype or its name, such as ``'float32'`` or ``'int32'``)."""
    if not isinstance(dtype, torch.dtype):
        dtype = getattr(torch, str(dtype).replace("torch.", ""))
    examples = []
    for batch_size, other_size in _EXAMPLE_SIZES:
        sizes = [(batch_size if i == 0 else other_size) if d is None else int(d) for i, d in enumerate(shape)]
        examples.append(torch.empty(sizes, dtype=dtype, device="meta"))
    return KerasTensor.from_examples(*examples)


# ---------------------------------------------------------------------------------------------- inference
def infer_outputs(fn, args: tuple, kwargs: dict, module: torch.nn.Module | None = None):
    """Run ``fn(*args, **kwargs)`` (KerasTensors among the arguments) for both example sizes and return the
    outputs as KerasTensors without history. With ``module``, its weights are swapped for meta tensors during
    the run (``functional_call``), so nothing is computed; if the code cannot run on meta tensors, it runs once
    more on zero tensors on the weights' device."""
    runs = []
    for examples_of in (_first_examples, _second_examples):
        call_args, call_kwargs = examples_of(args), examples_of(kwargs)
        if module is not None:  # float inputs tracked by autograd, as in a training step (K.gradients in a Lambda)
            call_args, call_kwargs = map_structure(_tracked, call_args), map_structure(_tracked, call_kwargs)
        try:
            with _DISABLED():
                runs.append(_run_on_meta(fn, call_args, call_kwargs, module))
        except (RuntimeError, NotImplementedError, TypeError, ValueError, IndexError):
            if module is None:
                raise
            runs.append(_run_on_zeros(fn, call_args, call_kwargs, module))
    return _pair_outputs(*runs)


def _tracked(t):
    # not a leaf (the clone), so a layer may still change its inputs in place, as Keras examples do
    return t.detach().requires_grad_().clone() if isinstance(t, torch.Tensor) and t.is_floating_point() else t


def _run_on_meta(fn, args, kwargs, module):
    if module is None:  # a torch op: constant tensors among its arguments join the meta run as meta tensors
        as_meta = lambda t: torch.empty_like(t, device="meta") if isinstance(t, torch.Tensor) else t  # noqa: E731
        return fn(*map_structure(as_meta, args), **map_structure(as_meta, kwargs))
    runner = _WeightsSwapped(module, fn)
    # weights keep requires_grad, so code that differentiates inside a layer (K.gradients in a Lambda) runs too
    state = {"owner." + name: torch.empty_like(t, device="meta").requires_grad_(t.requires_grad)
             for name, t in list(module.named_parameters()) + list(module.named_buffers())}
    return functional_call(runner, state, args, kwargs, strict=False, tie_weights=False)


class _WeightsSwapped(torch.nn.Module):
    """``fn`` run by ``functional_call`` with ``owner``'s weights replaced (the names are ``owner.<name>``)."""

    def __init__(self, owner: torch.nn.Module, fn):
        super().__init__()
        self.owner = owner
        self._fn = fn

    def forward(self, *args, **kwargs):
        return self._fn(*args, **kwargs)


def _run_on_zeros(fn, args, kwargs, module):
    device = next((t.device for t in list(module.parameters()) + list(module.buffers())), torch.device("cpu"))
    to_zeros = lambda t: _tracked(torch.zeros(t.shape, dtype=t.dtype, device=device)) \
        if isinstance(t, torch.Tensor) and t.device.type == "meta" else t  # noqa: E731
    outputs = fn(*map_structure(to_zeros, args), **map_structure(to_zeros, kwargs))
    return map_structure(lambda t: torch.empty_like(t, device="meta") if isinstance(t, torch.Tensor) else t, outputs)


def _pair_outputs(first, second):
    flat_first, flat_second = flatten(first), flatten(second)
    paired = [KerasTensor.from_examples(a, b) if isinstance(a, torch.Tensor) else a
              for a, b in zip(flat_first, flat_second)]
    it = iter(paired)
    return map_structure(lambda _: next(it), first)


# ---------------------------------------------------------------------------------------------- torch ops
class TorchOp:
    """A torch function recorded in a graph (``torch.exp``, ``Tensor.__add__`` ...). It has no weights; at run
    time the node calls ``func`` with the real tensors in place of the symbolic ones."""

    def __init__(self, func):
        self.func = func
        self.name = f"torch_op_{_func_name(func).strip('_')}_{id(self) % 100000}"
        self._inbound_nodes: list[Node] = []
        self.input_layout = "keras"

    def __call__(self, *args, **kwargs):
        return self.func(*args, **kwargs)

    def __repr__(self) -> str:
        return f"TorchOp({_func_name(self.func)})"


def record_op(func, args: tuple, kwargs: dict):
    """Apply ``func`` symbolically: infer its outputs on meta tensors and record a TorchOp node. A function with
    no tensor output (a shape query) returns its plain result."""
    try:
        outputs = infer_outputs(func, args, kwargs)
    except SymbolicValueError:
        raise
    except Exception as err:  # noqa: BLE001 - re-raised with what to do
        raise TypeError(f"{_func_name(func)} cannot be applied to a symbolic tensor ({err}). Wrap the "
                        "computation in a Lambda layer, where it runs on real tensors.") from err
    if not any(isinstance(t, KerasTensor) for t in flatten(outputs)):
        return outputs
    node = Node(TorchOp(func), args, kwargs, outputs)
    return node.outputs
