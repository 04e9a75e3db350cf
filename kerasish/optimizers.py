"""Keras 2.3.1 optimizers as ``torch.optim.Optimizer`` subclasses, with Keras's exact update rules.

Keras lets a user create the optimizer before the model has weights (``model.compile(optimizer=Adam(lr=1e-3))``
may run before the first batch builds the layers). So the constructors here take no parameters: they store
Keras's hyper-parameters, and ``bind(params)`` later runs ``torch.optim.Optimizer.__init__``; from then on
the object is an ordinary torch optimizer (lr schedulers, ``state_dict``, ``GradScaler`` all work).

Where the numbers come from: K231 ``keras/optimizers.py`` (the 2.3.x file: ``learning_rate`` with the
``lr`` alias, ``@K.symbolic get_updates``). Differences from ``torch.optim`` that matter for identical curves:

* epsilon is ``backend.epsilon()`` (1e-7), added *outside* the square root (Adam, RMSprop, Adagrad, Adamax,
  Nadam) or *inside* it (Adadelta);
* Adam folds both bias corrections into the step size, ``lr_t = lr * sqrt(1 - b2^t) / (1 - b1^t)``, and divides
  by ``sqrt(v) + eps`` with the *uncorrected* v;
* RMSprop's ``rho`` is 0.9 (torch ``alpha=0.99``); Adagrad's accumulators start at 0;
* SGD momentum keeps a velocity ``v = m*v - lr*g`` (torch keeps ``b = m*b + g``);
* ``decay`` is time-based, ``lr / (1 + decay * iterations)`` with the count *before* this step;
* ``clipnorm`` rescales every gradient by one global norm over all of them.

Every step-dependent scalar is a Python float computed from the Python step counter ``iterations``, and the
tensor work is ``torch._foreach_*`` multi-tensor kernels (torch's fused Adam and SGD-with-momentum kernels where
they take the tensors), so ``step()`` never waits for the device.
"""
from __future__ import annotations

import inspect
import math
import numbers
import weakref
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Union

import numpy as np
import torch

from kerasish import backend
from kerasish.utils.validation import check_number, did_you_mean

Params = Union[Iterable[torch.Tensor], Iterable[dict[str, Any]]]  # Union: aliases are evaluated (py3.9)
TorchOptimizerFactory = Callable[[list], torch.optim.Optimizer]

# Keyword arguments every K231 optimizer takes through **kwargs: ``lr`` and ``decay`` are popped by each
# subclass __init__, ``clipnorm``/``clipvalue`` are what K231 ``Optimizer.__init__`` allows (anything else:
# TypeError 'Unexpected keyword argument passed to optimizer').
_LEGACY_KWARGS = ("lr", "decay", "clipnorm", "clipvalue")

# The values each hyper-parameter may take (issue 15: checked at construction and when written). K231 documents
# "float >= 0" for rates, decays, epsilons and clips; the fractions are bounded where a value beyond the bound
# makes the update diverge or divide by zero (beta_1 = 1: Adam's lr_t divides by 1 - beta_1^t = 0). beta_2 = 1
# stays accepted: K231 then takes steps of exactly zero (lr_t's numerator sqrt(1 - beta_2^t) is 0).
_HYPER_RANGES: dict[str, dict[str, Any]] = {
    "lr": dict(low=0),
    "decay": dict(low=0),
    "epsilon": dict(low=0),
    "momentum": dict(low=0, high=1),
    "rho": dict(low=0, high=1, high_inclusive=False),
    "beta_1": dict(low=0, high=1, high_inclusive=False),
    "beta_2": dict(low=0, high=1),
    "schedule_decay": dict(low=0),
    "clipnorm": dict(low=0, allow_none=True),
    "clipvalue": dict(low=0, allow_none=True),
}


class HyperparameterValue(float, backend.ValueHandle):
    """What ``optimizer.lr`` (and any float hyper-parameter) reads: its value, as a ``float``, that still knows
    which optimizer and key it came from.

    Keras 2 stores hyper-parameters in backend variables, so scripts and callbacks write
    ``K.set_value(model.optimizer.lr, 0.01)`` and ``float(K.get_value(model.optimizer.lr))``. Here ``lr`` lives in
    the torch param groups (where torch lr schedulers and ``state_dict`` see it), and this value is the handle
    ``backend.get_value``/``set_value`` use to read and write it there. Arithmetic and comparisons treat it as the
    number it was when read; ``get_value`` reads the optimizer's current value. Copies and pickles are plain
    floats, so keeping one (in a log, in History) never keeps the optimizer alive.
    """

    def __new__(cls, value: float, optimizer: torch.optim.Optimizer, key: str):
        self = super().__new__(cls, value)
        self._optimizer = weakref.ref(optimizer)
        self._key = key
        return self

    def _owner(self) -> torch.optim.Optimizer:
        optimizer = self._optimizer()
        if optimizer is None:
            raise ReferenceError(f"the optimizer this {self._key!r} value was read from no longer exists.")
        return optimizer

    def read(self) -> float:
        """The optimizer's current value of this hyper-parameter (first param group)."""
        return _read_hyperparameter(self._owner(), self._key)

    def assign(self, value) -> None:
        """Set the hyper-parameter on the optimizer (every param group and the defaults)."""
        _write_hyperparameter(self._owner(), self._key, value)

    def __reduce__(self):
        return (float, (float(self),))

    def __repr__(self) -> str:
        return float.__repr__(self)


def _read_hyperparameter(opt: torch.optim.Optimizer, key: str):
    groups = opt.__dict__.get("param_groups")
    return groups[0][key] if groups else opt.defaults[key]


def _write_hyperparameter(opt: torch.optim.Optimizer, key: str, value) -> None:
    if key in _HYPER_RANGES and not isinstance(value, torch.Tensor):
        # K.set_value(opt.lr, -0.5), opt.lr = 'fast': refused before the optimizer changes (a tensor rate set
        # by the user is left unread: reading it could wait for the device).
        name = "lr" if key == "lr" else key
        value = check_number(value, name, type(opt).__name__, **_HYPER_RANGES[key],
                             label=f"the value written to `{name}`")
    elif isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_)):
        value = float(value)  # np.float32 from K.get_value, a HyperparameterValue: store a plain float
    opt.defaults[key] = value
    for group in opt.__dict__.get("param_groups", ()):
        group[key] = value


class _Hyperparameter:
    """A Keras attribute (``lr``, ``beta_1`` ...) stored in the torch param groups.

    Living in the groups is what lets torch lr schedulers change it and ``state_dict`` save it. Reading gives
    the first group's value (the defaults before binding) as a :class:`HyperparameterValue`; writing sets every
    group and the defaults, so groups added later agree. An optimizer without the key (``Adam().momentum``)
    raises AttributeError.
    """

    def __init__(self, key: str):
        self.key = key

    def __set_name__(self, owner, name):
        self.name = name

    def _check(self, opt):
        if self.key not in opt.defaults:
            raise AttributeError(f"{type(opt).__name__!r} object has no attribute {self.name!r}")

    def __get__(self, opt, owner=None):
        if opt is None:
            return self
        self._check(opt)
        value = _read_hyperparameter(opt, self.key)
        if isinstance(value, float):  # not bools (nesterov, amsgrad), not a tensor lr set by the user
            return HyperparameterValue(value, opt, self.key)
        return value

    def __set__(self, opt, value):
        self._check(opt)
        _write_hyperparameter(opt, self.key, value)


def learning_rate_of(optimizer) -> HyperparameterValue | Any:
    """The learning rate handle ``K.get_value``/``K.set_value`` take, for any optimizer ``compile`` accepts.

    Our optimizers (and any optimizer with an ``lr`` attribute): ``optimizer.lr``. A plain torch optimizer has
    no ``lr`` attribute (kerasish does not add one: its class stays torch's own); its first param group's rate is
    returned, and writing it through ``K.set_value`` sets every group, as Keras has one rate. The callbacks that
    change learning rates (``LearningRateScheduler``, ``ReduceLROnPlateau``) go through this.

    Raises:
        ValueError: the optimizer has neither an ``lr`` attribute nor an ``'lr'`` in its param groups
            (Keras 2.3.1's message: 'Optimizer must have a "lr" attribute.').
    """
    lr = getattr(optimizer, "lr", None)
    if lr is not None:
        return lr
    groups = getattr(optimizer, "param_groups", None)
    if isinstance(optimizer, torch.optim.Optimizer) and groups and "lr" in groups[0]:
        value = groups[0]["lr"]
        if isinstance(value, numbers.Real) and not isinstance(value, bool):
            return HyperparameterValue(float(value), optimizer, "lr")
        return value  # a tensor rate: K.get_value/set_value handle tensors
    raise ValueError('Optimizer must have a "lr" attribute.')


class Optimizer(torch.optim.Optimizer):
    """Base class of the Keras optimizers; not an optimizer itself.

    All Keras optimizers accept the keyword arguments ``lr`` (alias of ``learning_rate``), ``decay``
    (time-based learning-rate decay; not Nadam), ``clipnorm`` and ``clipvalue`` (float > 0: clip the
    gradients by their global L2 norm / elementwise; 0 or None: off).
    """

    # get_config keys in K231 order; 'learning_rate' is stored under torch's group key 'lr'.
    _config_keys: tuple[str, ...] = ()
    _accepts_decay = True

    lr = _Hyperparameter("lr")
    learning_rate = _Hyperparameter("lr")
    decay = _Hyperparameter("decay")
    epsilon = _Hyperparameter("epsilon")
    momentum = _Hyperparameter("momentum")
    nesterov = _Hyperparameter("nesterov")
    rho = _Hyperparameter("rho")
    beta_1 = _Hyperparameter("beta_1")
    beta_2 = _Hyperparameter("beta_2")
    amsgrad = _Hyperparameter("amsgrad")
    schedule_decay = _Hyperparameter("schedule_decay")

    def __init__(self, learning_rate: float, legacy_kwargs: dict[str, Any], **hyper: Any):
        kwargs = dict(legacy_kwargs)
        # K231 SGD.__init__ & co: `learning_rate = kwargs.pop('lr', learning_rate)` -- lr wins when both given.
        lr_name = "lr" if "lr" in kwargs else "learning_rate"
        learning_rate = kwargs.pop("lr", learning_rate)
        if self._accepts_decay:
            hyper["decay"] = kwargs.pop("decay", 0.0)
        clipnorm = kwargs.pop("clipnorm", None)
        clipvalue = kwargs.pop("clipvalue", None)
        if kwargs:
            allowed = [name for name in inspect.signature(type(self).__init__).parameters
                       if name not in ("self", "kwargs")]
            allowed += [name for name in _LEGACY_KWARGS if self._accepts_decay or name != "decay"]
            raise TypeError(
                f"{type(self).__name__}: Unexpected keyword argument passed to optimizer: "
                f"{', '.join(repr(k) for k in kwargs)}. Allowed arguments: {', '.join(allowed)}.")
        owner = type(self).__name__
        learning_rate = check_number(learning_rate, lr_name, owner, **_HYPER_RANGES["lr"])
        hyper = {key: (check_number(value, key, owner, **_HYPER_RANGES[key]) if key in _HYPER_RANGES else value)
                 for key, value in hyper.items()}
        clipnorm = check_number(clipnorm, "clipnorm", owner, **_HYPER_RANGES["clipnorm"])
        clipvalue = check_number(clipvalue, "clipvalue", owner, **_HYPER_RANGES["clipvalue"])
        # torch's own unpickling path creates the hook registries, so an unbound optimizer already behaves
        # like a torch one (hooks can be registered; the patched step reaches our "not attached" error).
        torch.optim.Optimizer.__setstate__(self, {"defaults": {"lr": float(learning_rate), **hyper}})
        self.clipnorm = clipnorm
        self.clipvalue = clipvalue
        self._iterations = 0

    # ------------------------------------------------------------ binding
    @property
    def is_bound(self) -> bool:
        """Whether ``bind`` has attached the optimizer to parameters."""
        return "param_groups" in self.__dict__

    def bind(self, params: Params) -> Optimizer:
        """Attach to the parameters to optimize (tensors or torch param-group dicts) and return ``self``.

        Binding again to the same parameters is a no-op; to other parameters it is an error (one optimizer
        per model, as in Keras where the optimizer's weights belong to one model).
        """
        groups = _materialize(params)
        wanted = {id(p) for p in _tensors(groups)}
        if self.is_bound:
            current = {id(p) for group in self.param_groups for p in group["params"]}
            if wanted == current:
                return self
            raise ValueError(
                f"{type(self).__name__}.bind: this optimizer is already attached to {len(current)} parameter "
                f"tensors and was given a different set of {len(wanted)}. Use one optimizer per model: create "
                f"a new {type(self).__name__}(...) (or pass the name {type(self).__name__.lower()!r}).")
        if not wanted:
            raise ValueError(f"{type(self).__name__}.bind: got no parameters to optimize; "
                             f"the model has no trainable weights.")
        hooks = {k: v for k, v in self.__dict__.items() if k.startswith("_optimizer_")}
        torch.optim.Optimizer.__init__(self, groups, self.defaults)
        self.__dict__.update(hooks)  # torch's __init__ resets the registries; keep hooks added before binding
        return self

    def _require_bound(self, what: str):
        if not self.is_bound:
            raise RuntimeError(
                f"{type(self).__name__}.{what}: the optimizer is not attached to a model yet; it is bound to "
                f"the model's weights when training starts (or call .bind(model.parameters())).")

    # ------------------------------------------------------------ Keras attributes
    @property
    def iterations(self) -> int:
        """Number of optimizer steps taken (K231 ``Optimizer.iterations``)."""
        return self._iterations

    @iterations.setter
    def iterations(self, value: int):
        self._iterations = int(value)

    def get_config(self) -> dict[str, Any]:
        """The constructor arguments, Keras style (K231 ``<Optimizer>.get_config``)."""
        config = {}
        for key in self._config_keys:
            value = getattr(self, key)
            config[key] = value if isinstance(value, bool) else float(value)
        # K231 Optimizer.get_config: the clip keys appear only when they were given.
        if self.clipnorm is not None:
            config["clipnorm"] = self.clipnorm
        if self.clipvalue is not None:
            config["clipvalue"] = self.clipvalue
        return config

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Optimizer:
        return cls(**config)

    # ------------------------------------------------------------ torch API
    @torch.no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One Keras update of every parameter that has a gradient; returns the closure's loss if given."""
        self._require_bound("step")
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        batches = []
        for group in self.param_groups:
            params = [p for p in group["params"] if p.grad is not None]
            if params:
                grads = [p.grad for p in params]
                if any(g.is_sparse for g in grads):
                    raise RuntimeError(f"{type(self).__name__}: sparse gradients are not supported.")
                batches.append((group, params, grads))
        if batches and (_positive(self.clipnorm) or _positive(self.clipvalue)):
            batches = self._clip(batches)
        self._apply_updates(batches, self._iterations)
        # K231 get_updates: `K.update_add(self.iterations, 1)` once per step, every step.
        self._iterations += 1
        return loss

    def _clip(self, batches):
        """K231 ``Optimizer.get_gradients``: clipnorm first, then clipvalue; returns new gradient tensors."""
        grads = [g for _, _, group_grads in batches for g in group_grads]
        if _positive(self.clipnorm):
            # One global norm over all gradients (`norm = K.sqrt(sum([K.sum(K.square(g)) for g in grads]))`),
            # then K231 clip_norm's `g * c / n if n >= c else g`, i.e. g * c / max(n, c): no host sync.
            total_norm = torch.linalg.vector_norm(torch.stack(torch._foreach_norm(grads)))
            factor = self.clipnorm / torch.clamp(total_norm, min=self.clipnorm)
            grads = torch._foreach_mul(grads, factor)
        if _positive(self.clipvalue):
            if _positive(self.clipnorm):
                torch._foreach_clamp_min_(grads, -self.clipvalue)
            else:
                grads = torch._foreach_clamp_min(grads, -self.clipvalue)
            torch._foreach_clamp_max_(grads, self.clipvalue)
        clipped, start = [], 0
        for group, params, _ in batches:
            clipped.append((group, params, grads[start:start + len(params)]))
            start += len(params)
        return clipped

    def _apply_updates(self, batches, iteration: int):
        for group, params, grads in batches:
            lr = group["lr"]
            decay = group.get("decay", 0.0)
            if decay > 0:
                # K231: `lr * (1. / (1. + self.decay * K.cast(self.iterations, ...)))`, count before this step.
                lr = lr * (1.0 / (1.0 + decay * iteration))
            self._update(group, params, grads, lr, iteration + 1)

    def _update(self, group, params, grads, lr: float, t: int):
        raise NotImplementedError

    def _state_buffers(self, params, *keys):
        """Per-key lists of the state tensors of ``params``, created as zeros on first use."""
        buffers = tuple([] for _ in keys)
        for p in params:
            state = self.state[p]
            for key, out in zip(keys, buffers):
                buf = state.get(key)
                if buf is None:
                    buf = state[key] = torch.zeros_like(p, memory_format=torch.preserve_format)
                out.append(buf)
        return buffers

    def state_dict(self) -> dict[str, Any]:
        """torch's state dict plus ``'keras': {'iterations': n}`` so a reload resumes decay and bias corrections."""
        self._require_bound("state_dict")
        state = super().state_dict()
        state["keras"] = {"iterations": self._iterations}
        return state

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self._require_bound("load_state_dict")
        keras_state = state_dict.get("keras")
        super().load_state_dict(state_dict)  # torch reads only 'state' and 'param_groups'
        if keras_state is not None:
            self._iterations = int(keras_state["iterations"])

    def zero_grad(self, set_to_none: bool = True) -> None:
        self._require_bound("zero_grad")
        super().zero_grad(set_to_none)

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        self._require_bound("add_param_group")
        super().add_param_group(param_group)

    def __getstate__(self) -> dict[str, Any]:
        # torch keeps only defaults/state/param_groups; copy/pickle must keep iterations and the clip settings.
        # Hooks are left out as torch does (they may not pickle); __setstate__ recreates them empty.
        return {k: v for k, v in self.__dict__.items() if not k.startswith("_optimizer_")}

    def __repr__(self) -> str:
        if not self.is_bound:
            args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
            return f"{type(self).__name__}({args}) [not attached to a model yet]"
        return super().__repr__()


class SGD(Optimizer):
    """Stochastic gradient descent optimizer.

    Includes support for momentum, learning rate decay, and Nesterov momentum.

    # Arguments
        learning_rate: float >= 0. Learning rate.
        momentum: float >= 0. Parameter that accelerates SGD in the relevant direction and dampens oscillations.
        nesterov: boolean. Whether to apply Nesterov momentum.
    """

    _config_keys = ("learning_rate", "momentum", "decay", "nesterov")

    def __init__(self, learning_rate: float = 0.01, momentum: float = 0.0, nesterov: bool = False, **kwargs: Any):
        super().__init__(learning_rate, kwargs, momentum=momentum, nesterov=bool(nesterov))

    def _update(self, group, params, grads, lr, t):
        momentum = group["momentum"]
        if momentum == 0:
            # K231 keeps a velocity even at momentum 0, but then v = -lr*g and p + v is plain SGD.
            torch._foreach_add_(params, grads, alpha=-lr)
            return
        (velocities,) = self._state_buffers(params, "velocity")
        if not group["nesterov"] and hasattr(torch, "_fused_sgd_") and _fusable(params, grads):
            self._fused_update(params, grads, velocities, momentum, lr)
            return
        # K231 SGD.get_updates: v = momentum * m - lr * g
        torch._foreach_mul_(velocities, momentum)
        torch._foreach_add_(velocities, grads, alpha=-lr)
        if group["nesterov"]:
            # new_p = p + momentum * v - lr * g
            torch._foreach_add_(params, velocities, alpha=momentum)
            torch._foreach_add_(params, grads, alpha=-lr)
        else:
            torch._foreach_add_(params, velocities)

    @staticmethod
    def _fused_update(params, grads, velocities, momentum, lr):
        """The same update in torch's fused SGD kernel (one pass over each tensor instead of three). torch keeps
        ``b = m*b + (1 - dampening)*g`` and steps ``p -= lr' * b``: with ``dampening = 1 + lr`` and ``lr' = -1``
        that is Keras's ``v = m*v - lr*g; p += v``, with Keras's velocity as the buffer (so the optimizer's state
        is the same on both paths). Not for Nesterov momentum, whose torch form differs from Keras's."""
        torch._fused_sgd_(params, grads, velocities, weight_decay=0.0, momentum=momentum, lr=-1.0,
                          dampening=1.0 + lr, nesterov=False, maximize=False, is_first_step=False)


class RMSprop(Optimizer):
    """RMSProp optimizer.

    It is recommended to leave the parameters of this optimizer at their default values
    (except the learning rate, which can be freely tuned).

    # Arguments
        learning_rate: float >= 0. Learning rate.
        rho: float >= 0.
        epsilon: float >= 0. Fuzz factor. If `None`, defaults to `K.epsilon()`.
    """

    _config_keys = ("learning_rate", "rho", "decay", "epsilon")

    def __init__(self, learning_rate: float = 0.001, rho: float = 0.9, epsilon: float | None = None,
                 **kwargs: Any):
        super().__init__(learning_rate, kwargs, rho=rho, epsilon=_epsilon(epsilon))

    def _update(self, group, params, grads, lr, t):
        rho, eps = group["rho"], group["epsilon"]
        (accumulators,) = self._state_buffers(params, "accumulator")
        # K231 RMSprop.get_updates: a = rho*a + (1-rho)*g^2; p -= lr * g / (sqrt(a) + eps)
        torch._foreach_mul_(accumulators, rho)
        torch._foreach_addcmul_(accumulators, grads, grads, value=1.0 - rho)
        denom = torch._foreach_sqrt(accumulators)
        torch._foreach_add_(denom, eps)
        torch._foreach_addcdiv_(params, grads, denom, value=-lr)


class Adagrad(Optimizer):
    """Adagrad optimizer.

    Adagrad is an optimizer with parameter-specific learning rates, which are adapted relative to how
    frequently a parameter gets updated during training. The more updates a parameter receives,
    the smaller the learning rate.

    # Arguments
        learning_rate: float >= 0. Initial learning rate.
        epsilon: float >= 0. If `None`, defaults to `K.epsilon()`.
    """

    _config_keys = ("learning_rate", "decay", "epsilon")

    def __init__(self, learning_rate: float = 0.01, epsilon: float | None = None, **kwargs: Any):
        super().__init__(learning_rate, kwargs, epsilon=_epsilon(epsilon))

    def _update(self, group, params, grads, lr, t):
        # K231 Adagrad.get_updates: accumulators start at K.zeros (torch: initial_accumulator_value=0 too);
        # a += g^2; p -= lr * g / (sqrt(a) + eps)
        (accumulators,) = self._state_buffers(params, "accumulator")
        torch._foreach_addcmul_(accumulators, grads, grads)
        denom = torch._foreach_sqrt(accumulators)
        torch._foreach_add_(denom, group["epsilon"])
        torch._foreach_addcdiv_(params, grads, denom, value=-lr)


class Adadelta(Optimizer):
    """Adadelta optimizer.

    Adadelta adapts learning rates based on a moving window of gradient updates. In this version the
    initial learning rate and decay factor can be set, as in most other Keras optimizers.

    # Arguments
        learning_rate: float >= 0. Initial learning rate, defaults to 1. It is recommended to leave it
            at the default value.
        rho: float >= 0. Adadelta decay factor, corresponding to fraction of gradient to keep at each time step.
        epsilon: float >= 0. Fuzz factor. If `None`, defaults to `K.epsilon()`.
    """

    _config_keys = ("learning_rate", "rho", "decay", "epsilon")

    def __init__(self, learning_rate: float = 1.0, rho: float = 0.95, epsilon: float | None = None,
                 **kwargs: Any):
        super().__init__(learning_rate, kwargs, rho=rho, epsilon=_epsilon(epsilon))

    def _update(self, group, params, grads, lr, t):
        rho, eps = group["rho"], group["epsilon"]
        accumulators, delta_accumulators = self._state_buffers(params, "accumulator", "delta_accumulator")
        # K231 Adadelta.get_updates, eps *inside* both square roots:
        # a = rho*a + (1-rho)*g^2; update = g * sqrt(d_a + eps) / sqrt(a + eps)  (new a, old d_a)
        torch._foreach_mul_(accumulators, rho)
        torch._foreach_addcmul_(accumulators, grads, grads, value=1.0 - rho)
        std = torch._foreach_add(accumulators, eps)
        torch._foreach_sqrt_(std)
        updates = torch._foreach_add(delta_accumulators, eps)
        torch._foreach_sqrt_(updates)
        torch._foreach_div_(updates, std)
        torch._foreach_mul_(updates, grads)
        torch._foreach_add_(params, updates, alpha=-lr)
        # d_a = rho*d_a + (1-rho)*update^2
        torch._foreach_mul_(delta_accumulators, rho)
        torch._foreach_addcmul_(delta_accumulators, updates, updates, value=1.0 - rho)


class Adam(Optimizer):
    """Adam optimizer.

    Default parameters follow those provided in the original paper.

    # Arguments
        learning_rate: float >= 0. Learning rate.
        beta_1: float, 0 < beta < 1. Generally close to 1.
        beta_2: float, 0 < beta < 1. Generally close to 1.
        epsilon: float >= 0. Fuzz factor. If `None`, defaults to `K.epsilon()`.
        amsgrad: boolean. Whether to apply the AMSGrad variant of this algorithm from the paper
            "On the Convergence of Adam and Beyond".
    """

    _config_keys = ("learning_rate", "beta_1", "beta_2", "decay", "epsilon", "amsgrad")

    def __init__(self, learning_rate: float = 0.001, beta_1: float = 0.9, beta_2: float = 0.999,
                 epsilon: float | None = None, amsgrad: bool = False, **kwargs: Any):
        super().__init__(learning_rate, kwargs, beta_1=beta_1, beta_2=beta_2,
                         epsilon=_epsilon(epsilon), amsgrad=bool(amsgrad))

    def _update(self, group, params, grads, lr, t):
        beta_1, beta_2, eps = group["beta_1"], group["beta_2"], group["epsilon"]
        # K231 Adam.get_updates: lr_t = lr * sqrt(1 - b2^t) / (1 - b1^t); p -= lr_t * m / (sqrt(v) + eps),
        # v uncorrected -- eps is effectively eps*sqrt(1-b2^t) compared with torch.optim.Adam.
        lr_t = lr * math.sqrt(1.0 - beta_2 ** t) / (1.0 - beta_1 ** t)
        ms, vs = self._state_buffers(params, "m", "v")
        # beta_2 = 1: Keras's zero step, below
        if 1.0 - beta_2 ** t > 0.0 and hasattr(torch, "_fused_adam_") and _fusable(params, grads):
            self._fused_update(group, params, grads, ms, vs, lr, t)
            return
        torch._foreach_lerp_(ms, grads, 1.0 - beta_1)  # m = b1*m + (1-b1)*g
        torch._foreach_mul_(vs, beta_2)
        torch._foreach_addcmul_(vs, grads, grads, value=1.0 - beta_2)
        if group["amsgrad"]:
            # vhat = max(vhat, v); the step divides by sqrt(vhat) + eps
            (vhats,) = self._state_buffers(params, "vhat")
            torch._foreach_maximum_(vhats, vs)
            denom = torch._foreach_sqrt(vhats)
        else:
            denom = torch._foreach_sqrt(vs)
        torch._foreach_add_(denom, eps)
        torch._foreach_addcdiv_(params, ms, denom, value=-lr_t)

    def _fused_update(self, group, params, grads, ms, vs, lr, t):
        """The same update in torch's fused Adam kernel (one pass over each tensor instead of six; ~3x faster on
        the CPU). torch divides by ``sqrt(v) / sqrt(1 - b2^t) + eps'``: with ``eps' = eps / sqrt(1 - b2^t)`` that
        is Keras's ``(sqrt(v) + eps)`` scaled by the same factor as Keras's ``lr_t``."""
        beta_1, beta_2 = group["beta_1"], group["beta_2"]
        vhats = self._state_buffers(params, "vhat")[0] if group["amsgrad"] else []
        step = self._step_tensor(params[0].device, t)
        torch._fused_adam_(params, grads, ms, vs, vhats, [step] * len(params), lr=lr, beta1=beta_1, beta2=beta_2,
                           weight_decay=0.0, eps=group["epsilon"] / math.sqrt(1.0 - beta_2 ** t),
                           amsgrad=group["amsgrad"], maximize=False)

    def _step_tensor(self, device: torch.device, t: int) -> torch.Tensor:
        # The fused kernel reads the step count from a float32 tensor on the parameters' device; one is reused
        # and refilled (a fill kernel on a GPU, no host sync).
        steps = self.__dict__.setdefault("_fused_steps", {})
        step = steps.get(device)
        if step is None:
            step = steps[device] = torch.zeros((), dtype=torch.float32, device=device)
        return step.fill_(float(t))


# torch's fused Adam and SGD kernels run on CUDA; on the CPU from torch 2.4 (older releases raise
# NotImplementedError).
_FUSED_DEVICES = ("cuda", "cpu") if torch.torch_version.TorchVersion(torch.__version__) >= "2.4" else ("cuda",)


def _fusable(params, grads) -> bool:
    """Whether torch's fused Adam and SGD kernels take these tensors. They want one device and one floating
    dtype for the whole list (the CUDA kernels check), and dense tensors whose gradients have the same strides
    (the CPU kernels walk raw memory, so anything else would update the wrong elements). A gradient's dtype,
    device and shape are its parameter's (torch refuses any other, also for ``p.grad = g``), and ``step`` has
    refused sparse ones. Runs every step (~0.5 us a parameter): a plain loop that reads the few attributes it
    needs and stops at the first misfit."""
    first = params[0]
    device, dtype = first.device, first.dtype
    if device.type not in _FUSED_DEVICES or not first.is_floating_point():
        return False
    for p, g in zip(params, grads):
        if p.dtype is not dtype or p.device != device:  # dtypes are singletons: `is` compares them
            return False
        if g.stride() != p.stride() and not _same_layout(p, g):
            return False
        if not _dense(p):
            return False
    return True


def _dense(t: torch.Tensor) -> bool:
    return t.is_contiguous() or (t.dim() == 4 and t.is_contiguous(memory_format=torch.channels_last))


def _same_layout(a: torch.Tensor, b: torch.Tensor) -> bool:
    if a.shape != b.shape:
        return False
    a_strides, b_strides = a.stride(), b.stride()
    # strides of size-1 dimensions do not matter (autograd may give them other values)
    return a_strides == b_strides or all(sa == sb for sa, sb, n in zip(a_strides, b_strides, a.shape) if n > 1)


class Adamax(Optimizer):
    """Adamax optimizer from Adam paper's Section 7.

    It is a variant of Adam based on the infinity norm. Default parameters follow those provided in the paper.

    # Arguments
        learning_rate: float >= 0. Learning rate.
        beta_1: float, 0 < beta < 1. Generally close to 1.
        beta_2: float, 0 < beta < 1. Generally close to 1.
        epsilon: float >= 0. Fuzz factor. If `None`, defaults to `K.epsilon()`.
    """

    _config_keys = ("learning_rate", "beta_1", "beta_2", "decay", "epsilon")

    def __init__(self, learning_rate: float = 0.002, beta_1: float = 0.9, beta_2: float = 0.999,
                 epsilon: float | None = None, **kwargs: Any):
        super().__init__(learning_rate, kwargs, beta_1=beta_1, beta_2=beta_2,
                         epsilon=_epsilon(epsilon))

    def _update(self, group, params, grads, lr, t):
        beta_1, beta_2, eps = group["beta_1"], group["beta_2"], group["epsilon"]
        # K231 Adamax.get_updates: lr_t = lr / (1 - b1^t); u = max(b2*u, |g|); p -= lr_t * m / (u + eps)
        lr_t = lr / (1.0 - beta_1 ** t)
        ms, us = self._state_buffers(params, "m", "u")
        torch._foreach_lerp_(ms, grads, 1.0 - beta_1)
        torch._foreach_mul_(us, beta_2)
        torch._foreach_maximum_(us, torch._foreach_abs(grads))
        denom = torch._foreach_add(us, eps)
        torch._foreach_addcdiv_(params, ms, denom, value=-lr_t)


class Nadam(Optimizer):
    """Nesterov Adam optimizer.

    Much like Adam is essentially RMSprop with momentum, Nadam is RMSprop with Nesterov momentum.
    Default parameters follow those provided in the paper. Keras 2.3.1's Nadam has no ``decay`` argument.

    # Arguments
        learning_rate: float >= 0. Learning rate.
        beta_1: float, 0 < beta < 1. Generally close to 1.
        beta_2: float, 0 < beta < 1. Generally close to 1.
        epsilon: float >= 0. Fuzz factor. If `None`, defaults to `K.epsilon()`.
        schedule_decay: float. Warming of the momentum schedule.
    """

    _config_keys = ("learning_rate", "beta_1", "beta_2", "epsilon", "schedule_decay")
    # K231 Nadam.__init__ pops 'schedule_decay', 'epsilon', 'lr' but not 'decay': Nadam(decay=...) is a
    # TypeError there, and get_updates uses self.learning_rate undecayed.
    _accepts_decay = False

    def __init__(self, learning_rate: float = 0.002, beta_1: float = 0.9, beta_2: float = 0.999,
                 epsilon: float | None = None, schedule_decay: float = 0.004, **kwargs: Any):
        # m_schedule is K231's `K.variable(1., name='m_schedule')`; kept per param group so torch's
        # state_dict saves it with the group.
        super().__init__(learning_rate, kwargs, beta_1=beta_1, beta_2=beta_2,
                         epsilon=_epsilon(epsilon), schedule_decay=schedule_decay, m_schedule=1.0)

    def _apply_updates(self, batches, iteration):
        # The momentum schedule advances every step for every group (K231 appends the m_schedule update
        # unconditionally), also for a group that has no gradient this step.
        with_grads = {id(group): (params, grads) for group, params, grads in batches}
        t = iteration + 1
        for group in self.param_groups:
            beta_1, decay = group["beta_1"], group["schedule_decay"]
            # K231 Nadam.get_updates: warming momentum schedule
            momentum_t = beta_1 * (1.0 - 0.5 * 0.96 ** (t * decay))
            momentum_next = beta_1 * (1.0 - 0.5 * 0.96 ** ((t + 1) * decay))
            schedule_new = group["m_schedule"] * momentum_t
            schedule_next = schedule_new * momentum_next
            group["m_schedule"] = schedule_new
            if id(group) in with_grads:
                params, grads = with_grads[id(group)]
                self._nadam_update(group, params, grads, t, momentum_t, momentum_next, schedule_new,
                                   schedule_next)

    def _nadam_update(self, group, params, grads, t, momentum_t, momentum_next, schedule_new, schedule_next):
        beta_1, beta_2, eps, lr = group["beta_1"], group["beta_2"], group["epsilon"], group["lr"]
        ms, vs = self._state_buffers(params, "m", "v")
        torch._foreach_lerp_(ms, grads, 1.0 - beta_1)
        torch._foreach_mul_(vs, beta_2)
        torch._foreach_addcmul_(vs, grads, grads, value=1.0 - beta_2)
        # K231: g' = g / (1 - schedule_new); m' = m / (1 - schedule_next); v' = v / (1 - b2^t)
        #       m_bar = (1 - momentum_t) * g' + momentum_next * m';  p -= lr * m_bar / (sqrt(v') + eps)
        denom = torch._foreach_sqrt(vs)
        torch._foreach_div_(denom, math.sqrt(1.0 - beta_2 ** t))
        torch._foreach_add_(denom, eps)
        torch._foreach_addcdiv_(params, grads, denom, value=-lr * (1.0 - momentum_t) / (1.0 - schedule_new))
        torch._foreach_addcdiv_(params, ms, denom, value=-lr * momentum_next / (1.0 - schedule_next))


# Aliases (K231 optimizers.py).
sgd = SGD
rmsprop = RMSprop
adagrad = Adagrad
adadelta = Adadelta
adam = Adam
adamax = Adamax
nadam = Nadam


def clip_norm(g, c, n):
    """K231 ``optimizers.clip_norm``: the gradient ``g`` scaled by ``c / n`` when its norm ``n`` reaches ``c``,
    else ``g`` unchanged; ``c <= 0`` leaves it alone. For custom optimizers; the built-in ones clip all their
    gradients at once in ``Optimizer._clip`` with the same formula."""
    if c <= 0:
        return g
    g = torch.as_tensor(g)
    n = torch.as_tensor(n, dtype=g.dtype, device=g.device)
    return g * (c / torch.clamp(n, min=c))  # g * c / max(n, c): g itself below the threshold


class TFOptimizer:
    """K231 ``TFOptimizer(optimizer)`` wraps a TensorFlow optimizer (``tf.train.Optimizer``); kerasish trains with
    PyTorch, so there is nothing it could wrap. Creating one raises and says what to pass to ``compile``."""

    def __init__(self, optimizer):
        raise RuntimeError(
            f"TFOptimizer: it wraps a TensorFlow optimizer (received {type(optimizer).__name__}), and kerasish "
            "trains with PyTorch. Pass compile a Keras optimizer instead ('adam', kerasish.optimizers.Adam(lr=...)) "
            "or a torch one: optimizer=torch.optim.Adam (created on the model's parameters) or "
            "torch.optim.Adam(model.parameters(), lr=...).")


_BY_NAME: dict[str, type[Optimizer]] = {
    cls.__name__.lower(): cls for cls in (SGD, RMSprop, Adagrad, Adadelta, Adam, Adamax, Nadam)}
_KNOWN_NAMES = ", ".join(repr(name) for name in _BY_NAME)


def serialize(optimizer: Optimizer) -> dict[str, Any]:
    """``{'class_name': ..., 'config': ...}`` as K231 ``serialize_keras_object`` writes it."""
    return {"class_name": type(optimizer).__name__, "config": optimizer.get_config()}


def deserialize(config: Mapping[str, Any], custom_objects: Mapping[str, type] | None = None) -> Optimizer:
    """Inverse of ``serialize``; the class name is case-insensitive for built-ins (K231 ``deserialize``)."""
    if not isinstance(config, Mapping) or "class_name" not in config:
        raise ValueError(f"optimizer: a config dict needs a 'class_name' key (and optionally 'config'); "
                         f"received {config!r}.")
    name = config["class_name"]
    cls = (custom_objects or {}).get(name) or _BY_NAME.get(str(name).lower())
    if cls is None:
        raise ValueError(f"optimizer: Unknown optimizer: {name!r}.{did_you_mean(name, _BY_NAME)} Known names (any "
                         f"case): {_KNOWN_NAMES}.")
    return cls.from_config(dict(config.get("config") or {}))


def get(identifier: Any) -> Optimizer | torch.optim.Optimizer | TorchOptimizerFactory:
    """Resolve what ``compile(optimizer=...)`` received (K231 ``optimizers.get``, extended to torch).

    # Arguments
        identifier: a Keras name ('adam', 'SGD' ... any case), a ``{'class_name', 'config'}`` dict, one of
            these optimizers, a ``torch.optim.Optimizer`` instance (built by the user on the model's
            parameters), or a ``torch.optim.Optimizer`` subclass / any callable taking the parameters and
            returning a torch optimizer (created by ``bind``).

    # Returns
        An optimizer instance, or the callable to be called by ``bind``.
    """
    if isinstance(identifier, torch.optim.Optimizer):
        return identifier
    if isinstance(identifier, str):
        return deserialize({"class_name": identifier, "config": {}})
    if isinstance(identifier, Mapping):
        return deserialize(identifier)
    if isinstance(identifier, type) and issubclass(identifier, Optimizer):
        return identifier()
    if callable(identifier):
        return identifier
    raise TypeError(
        f"optimizer: Could not interpret optimizer identifier: {identifier!r} ({type(identifier).__name__}). "
        f"Expected a name ({_KNOWN_NAMES}), a {{'class_name': ..., 'config': ...}} dict, an optimizer "
        f"instance, or a torch.optim.Optimizer class or factory taking the parameters.")


def bind(identifier: Any, params: Params) -> torch.optim.Optimizer:
    """A torch optimizer over ``params`` for anything ``get`` accepts."""
    groups = _materialize(params)
    resolved = get(identifier)
    if isinstance(resolved, Optimizer):
        return resolved.bind(groups)
    if isinstance(resolved, torch.optim.Optimizer):
        wanted = {id(p) for p in _tensors(groups)}
        if not any(id(p) in wanted for group in resolved.param_groups for p in group["params"]):
            raise ValueError(
                f"optimizer: the {type(resolved).__name__} instance optimizes none of this model's "
                f"parameters. Create it on model.parameters() after the model is built, or pass the class "
                f"(e.g. torch.optim.{type(resolved).__name__}) or a name so it is created for the model.")
        return resolved
    optimizer = resolved(groups)
    if not isinstance(optimizer, torch.optim.Optimizer):
        raise TypeError(f"optimizer: {resolved!r} was called with the model's parameters and returned "
                        f"{type(optimizer).__name__}; it must return a torch.optim.Optimizer.")
    return optimizer


# ---------------------------------------------------------------- helpers
def _epsilon(epsilon: float | None) -> float:
    return backend.epsilon() if epsilon is None else epsilon  # checked (and made a float) by Optimizer.__init__


def _positive(value) -> bool:
    # K231 get_gradients applies a clip only when `self.clipnorm > 0` / `self.clipvalue > 0`.
    return value is not None and value > 0


def _materialize(params: Params) -> list:
    """A list that can be read twice: generators consumed once, param-group dicts copied with listed params."""
    if isinstance(params, torch.Tensor):
        raise TypeError("params: expected an iterable of tensors or param-group dicts, got a single tensor; "
                        "wrap it in a list.")
    groups = []
    for item in params:
        if isinstance(item, Mapping):
            item = dict(item)
            inner = item.get("params", ())
            item["params"] = [inner] if isinstance(inner, torch.Tensor) else list(inner)
        groups.append(item)
    return groups


def _tensors(groups: list) -> list[torch.Tensor]:
    out = []
    for item in groups:
        for p in (item["params"] if isinstance(item, dict) else [item]):
            out.append(p[1] if isinstance(p, tuple) else p)  # torch accepts (name, tensor) pairs
    return out
