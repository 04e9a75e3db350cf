"""kerasish.optimizers against an independent NumPy transcription of Keras 2.3.1 ``optimizers.py``.

The reference below follows K231 ``get_gradients`` and each ``get_updates`` formula literally (float64, the
``iterations`` count read before its increment), not the rearranged multi-tensor form of the code under test.
"""
import copy
import math

import numpy as np
import pytest
import torch

from kerasish import optimizers
from kerasish.optimizers import SGD, Adadelta, Adagrad, Adam, Adamax, Nadam, RMSprop

EPS = 1e-7  # K231 backend/common.py _EPSILON
SHAPES = [(3,), (2, 2)]
RNG = np.random.default_rng(1234)
INITIAL = [RNG.normal(size=s) + 2.0 for s in SHAPES]
GRADS = [[RNG.normal(size=s) for s in SHAPES] for _ in range(5)]  # five steps of fixed gradients


class KerasReference:
    """K231 optimizers.py, one update at a time, in NumPy."""

    def __init__(self, kind, lr, decay=0.0, clipnorm=None, clipvalue=None, **hyper):
        self.kind, self.lr, self.decay = kind, lr, decay
        self.clipnorm, self.clipvalue, self.hyper = clipnorm, clipvalue, hyper
        self.iterations = 0
        self.m_schedule = 1.0
        self.slots = {}

    def slot(self, name, i, shape):
        return self.slots.setdefault((name, i), np.zeros(shape))

    def gradients(self, grads):  # Optimizer.get_gradients
        if self.clipnorm is not None and self.clipnorm > 0:
            norm = np.sqrt(sum(np.sum(np.square(g)) for g in grads))
            grads = [g * self.clipnorm / norm if norm >= self.clipnorm else g for g in grads]  # clip_norm
        if self.clipvalue is not None and self.clipvalue > 0:
            grads = [np.clip(g, -self.clipvalue, self.clipvalue) for g in grads]
        return grads

    def step(self, params, grads):
        grads = self.gradients(grads)
        h = self.hyper
        lr = self.lr
        if self.decay > 0:
            lr = lr * (1.0 / (1.0 + self.decay * self.iterations))
        t = self.iterations + 1.0
        out = []
        if self.kind == "nadam":
            b1, sd = h["beta_1"], h["schedule_decay"]
            momentum_cache_t = b1 * (1.0 - 0.5 * (0.96 ** (t * sd)))
            momentum_cache_t_1 = b1 * (1.0 - 0.5 * (0.96 ** ((t + 1) * sd)))
            m_schedule_new = self.m_schedule * momentum_cache_t
            m_schedule_next = self.m_schedule * momentum_cache_t * momentum_cache_t_1
            self.m_schedule = m_schedule_new
        for i, (p, g) in enumerate(zip(params, grads)):
            if self.kind == "sgd":
                m = self.slot("m", i, p.shape)
                v = h["momentum"] * m - lr * g
                self.slots[("m", i)] = v
                new_p = p + h["momentum"] * v - lr * g if h["nesterov"] else p + v
            elif self.kind == "rmsprop":
                a = h["rho"] * self.slot("a", i, p.shape) + (1.0 - h["rho"]) * np.square(g)
                self.slots[("a", i)] = a
                new_p = p - lr * g / (np.sqrt(a) + h["epsilon"])
            elif self.kind == "adagrad":
                a = self.slot("a", i, p.shape) + np.square(g)
                self.slots[("a", i)] = a
                new_p = p - lr * g / (np.sqrt(a) + h["epsilon"])
            elif self.kind == "adadelta":
                rho, eps = h["rho"], h["epsilon"]
                a = rho * self.slot("a", i, p.shape) + (1.0 - rho) * np.square(g)
                d_a = self.slot("d_a", i, p.shape)
                update = g * np.sqrt(d_a + eps) / np.sqrt(a + eps)
                new_p = p - lr * update
                self.slots[("a", i)] = a
                self.slots[("d_a", i)] = rho * d_a + (1 - rho) * np.square(update)
            elif self.kind == "adam":
                b1, b2 = h["beta_1"], h["beta_2"]
                lr_t = lr * (np.sqrt(1.0 - b2 ** t) / (1.0 - b1 ** t))
                m_t = b1 * self.slot("m", i, p.shape) + (1.0 - b1) * g
                v_t = b2 * self.slot("v", i, p.shape) + (1.0 - b2) * np.square(g)
                self.slots[("m", i)], self.slots[("v", i)] = m_t, v_t
                if h["amsgrad"]:
                    vhat_t = np.maximum(self.slot("vhat", i, p.shape), v_t)
                    self.slots[("vhat", i)] = vhat_t
                    new_p = p - lr_t * m_t / (np.sqrt(vhat_t) + h["epsilon"])
                else:
                    new_p = p - lr_t * m_t / (np.sqrt(v_t) + h["epsilon"])
            elif self.kind == "adamax":
                b1, b2 = h["beta_1"], h["beta_2"]
                lr_t = lr / (1.0 - b1 ** t)
                m_t = b1 * self.slot("m", i, p.shape) + (1.0 - b1) * g
                u_t = np.maximum(b2 * self.slot("u", i, p.shape), np.abs(g))
                self.slots[("m", i)], self.slots[("u", i)] = m_t, u_t
                new_p = p - lr_t * m_t / (u_t + h["epsilon"])
            elif self.kind == "nadam":
                b1, b2 = h["beta_1"], h["beta_2"]
                g_prime = g / (1.0 - m_schedule_new)
                m_t = b1 * self.slot("m", i, p.shape) + (1.0 - b1) * g
                m_t_prime = m_t / (1.0 - m_schedule_next)
                v_t = b2 * self.slot("v", i, p.shape) + (1.0 - b2) * np.square(g)
                v_t_prime = v_t / (1.0 - b2 ** t)
                m_t_bar = (1.0 - momentum_cache_t) * g_prime + momentum_cache_t_1 * m_t_prime
                self.slots[("m", i)], self.slots[("v", i)] = m_t, v_t
                new_p = p - self.lr * m_t_bar / (np.sqrt(v_t_prime) + h["epsilon"])  # Nadam: no decay
            out.append(new_p)
        self.iterations += 1
        return out


# K231 constructor defaults, written out independently of the code under test.
KERAS_DEFAULTS = {
    "sgd": dict(lr=0.01, momentum=0.0, nesterov=False),
    "rmsprop": dict(lr=0.001, rho=0.9, epsilon=EPS),
    "adagrad": dict(lr=0.01, epsilon=EPS),
    "adadelta": dict(lr=1.0, rho=0.95, epsilon=EPS),
    "adam": dict(lr=0.001, beta_1=0.9, beta_2=0.999, epsilon=EPS, amsgrad=False),
    "adamax": dict(lr=0.002, beta_1=0.9, beta_2=0.999, epsilon=EPS),
    "nadam": dict(lr=0.002, beta_1=0.9, beta_2=0.999, epsilon=EPS, schedule_decay=0.004),
}
CLASSES = {"sgd": SGD, "rmsprop": RMSprop, "adagrad": Adagrad, "adadelta": Adadelta, "adam": Adam,
           "adamax": Adamax, "nadam": Nadam}


def reference_trajectory(kind, steps=GRADS, **overrides):
    config = {**KERAS_DEFAULTS[kind], **overrides}
    ref = KerasReference(kind, **config)
    params, trajectory = [p.copy() for p in INITIAL], []
    for grads in steps:
        params = ref.step(params, grads)
        trajectory.append(params)
    return trajectory


def make_params(dtype=torch.float64):
    return [torch.nn.Parameter(torch.tensor(p, dtype=dtype)) for p in INITIAL]


def torch_trajectory(optimizer, params=None, steps=GRADS):
    params = make_params() if params is None else params
    optimizer.bind(params)
    trajectory = []
    for grads in steps:
        for p, g in zip(params, grads):
            p.grad = torch.tensor(g, dtype=p.dtype)
        optimizer.step()
        trajectory.append([p.detach().numpy().copy() for p in params])
    return trajectory


def assert_trajectories_close(actual, expected, rtol=1e-6):
    assert len(actual) == len(expected)
    for step, (got, want) in enumerate(zip(actual, expected)):
        for i, (a, b) in enumerate(zip(got, want)):
            np.testing.assert_allclose(a, b, rtol=rtol, atol=1e-12, err_msg=f"step {step + 1}, tensor {i}")


# ---------------------------------------------------------------- update rules
@pytest.mark.parametrize("kind", list(KERAS_DEFAULTS))
def test_default_constructor_follows_keras_231_update_rule_for_five_steps(kind):
    assert_trajectories_close(torch_trajectory(CLASSES[kind]()), reference_trajectory(kind))


def test_sgd_momentum_keeps_keras_velocity():
    actual = torch_trajectory(SGD(learning_rate=0.1, momentum=0.9))
    assert_trajectories_close(actual, reference_trajectory("sgd", lr=0.1, momentum=0.9))


def test_sgd_nesterov_adds_momentum_times_velocity_minus_lr_grad():
    actual = torch_trajectory(SGD(learning_rate=0.1, momentum=0.9, nesterov=True))
    assert_trajectories_close(actual, reference_trajectory("sgd", lr=0.1, momentum=0.9, nesterov=True))


def test_adam_amsgrad_divides_by_running_max_of_v():
    # gradients that shrink after step 2 make vhat differ from v
    steps = [[g * (3.0 if k < 2 else 0.2) for g in grads] for k, grads in enumerate(GRADS)]
    actual = torch_trajectory(Adam(learning_rate=0.01, beta_2=0.5, amsgrad=True), steps=steps)
    expected = reference_trajectory("adam", steps=steps, lr=0.01, beta_2=0.5, amsgrad=True)
    assert_trajectories_close(actual, expected)
    plain = reference_trajectory("adam", steps=steps, lr=0.01, beta_2=0.5)
    assert not np.allclose(plain[-1][0], expected[-1][0], rtol=1e-3)


def test_adam_first_step_is_lr_times_sign_with_keras_epsilon():
    # hand-derived: t=1, m=0.1g, v=0.001g^2, lr_t = lr*sqrt(0.001)/0.1 -> step = lr*g/(|g| + eps/sqrt(0.001))
    p = torch.nn.Parameter(torch.tensor([1.0], dtype=torch.float64))
    opt = Adam(learning_rate=0.5, epsilon=0.1).bind([p])
    p.grad = torch.tensor([2.0], dtype=torch.float64)
    opt.step()
    assert p.item() == pytest.approx(1.0 - 0.5 * 2.0 / (2.0 + 0.1 / math.sqrt(0.001)), rel=1e-12)


@pytest.mark.parametrize("kind", ["sgd", "rmsprop", "adagrad", "adadelta", "adam", "adamax"])
def test_decay_divides_lr_by_one_plus_decay_times_previous_iterations(kind):
    lr = {"adadelta": 1.0}.get(kind, 0.05)
    actual = torch_trajectory(CLASSES[kind](lr=lr, decay=0.3))
    assert_trajectories_close(actual, reference_trajectory(kind, lr=lr, decay=0.3))


def test_adam_in_float32_matches_keras_within_1e6():
    actual = torch_trajectory(Adam(learning_rate=0.01), params=make_params(torch.float32))
    assert_trajectories_close(actual, reference_trajectory("adam", lr=0.01), rtol=1e-6)


@pytest.mark.parametrize("fused", [True, False], ids=["fused kernel", "foreach ops"])
@pytest.mark.parametrize("amsgrad", [False, True])
def test_adam_fused_and_foreach_paths_both_follow_keras(monkeypatch, fused, amsgrad):
    from kerasish import optimizers as optimizers_module
    calls = []
    fused_adam = torch._fused_adam_
    monkeypatch.setattr(torch, "_fused_adam_", lambda *a, **k: calls.append(1) or fused_adam(*a, **k))
    if not fused:
        monkeypatch.setattr(optimizers_module, "_fusable", lambda params, grads: False)
    # epsilon 0.1 against gradients of about 0.1-3: the epsilon term (eps / sqrt(1 - b2^t) in the fused
    # kernel) changes every step's size; decay changes lr between steps
    steps = [[g * (3.0 if k < 2 else 0.2) for g in grads] for k, grads in enumerate(GRADS)]
    options = dict(beta_2=0.5, epsilon=0.1, decay=0.05, amsgrad=amsgrad)
    actual = torch_trajectory(Adam(learning_rate=0.01, **options), steps=steps)
    expected = reference_trajectory("adam", steps=steps, lr=0.01, **options)
    assert_trajectories_close(actual, expected)
    assert len(calls) == (len(steps) if fused else 0)


@pytest.mark.parametrize("fused", [True, False], ids=["fused kernel", "foreach ops"])
def test_sgd_momentum_fused_and_foreach_paths_both_follow_keras(monkeypatch, fused):
    from kerasish import optimizers as optimizers_module
    calls = []
    fused_sgd = torch._fused_sgd_
    monkeypatch.setattr(torch, "_fused_sgd_", lambda *a, **k: calls.append(1) or fused_sgd(*a, **k))
    if not fused:
        monkeypatch.setattr(optimizers_module, "_fusable", lambda params, grads: False)
    # decay changes lr between steps: the velocity must stay Keras's v = m*v - lr*g, not torch's lr-free buffer
    actual = torch_trajectory(SGD(learning_rate=0.1, momentum=0.9, decay=0.3))
    assert_trajectories_close(actual, reference_trajectory("sgd", lr=0.1, momentum=0.9, decay=0.3))
    assert len(calls) == (len(GRADS) if fused else 0)


def test_sgd_nesterov_and_plain_sgd_do_not_use_the_fused_kernel(monkeypatch):
    calls = []
    fused_sgd = torch._fused_sgd_
    monkeypatch.setattr(torch, "_fused_sgd_", lambda *a, **k: calls.append(1) or fused_sgd(*a, **k))
    actual = torch_trajectory(SGD(learning_rate=0.1, momentum=0.9, nesterov=True))
    assert_trajectories_close(actual, reference_trajectory("sgd", lr=0.1, momentum=0.9, nesterov=True))
    torch_trajectory(SGD(learning_rate=0.1))
    assert calls == []


def test_adam_with_beta_2_of_one_takes_keras_zero_steps():
    # K231: lr_t = lr * sqrt(1 - 1^t) / (1 - b1^t) = 0
    params = make_params()
    before = [p.detach().clone() for p in params]
    torch_trajectory(Adam(learning_rate=0.1, beta_2=1.0), params=params)
    for p, b in zip(params, before):
        torch.testing.assert_close(p.detach(), b)


def test_adam_uses_the_fused_kernel_only_for_tensors_it_handles():
    from kerasish.optimizers import _fusable
    f32, f64 = torch.zeros(2, 3), torch.zeros(2, 3, dtype=torch.float64)
    assert _fusable([f32, torch.zeros(4)], [f32.clone(), torch.zeros(4)])
    assert not _fusable([f32, f64], [f32.clone(), f64.clone()])  # one dtype per list (the CUDA kernel's check)
    # a gradient of another dtype, device or shape than its parameter cannot be: torch refuses it (_fusable
    # counts on that and does not check them)
    param = torch.nn.Parameter(f32.clone())
    for other in (f64, torch.zeros(3, 2), torch.zeros(2, 3, device="meta")):
        with pytest.raises(RuntimeError, match="attempting to assign a gradient"):
            param.grad = other
    strided = torch.zeros(2, 6)[:, ::2]
    assert not _fusable([strided], [torch.zeros(2, 3)])  # not dense: the CPU kernel would write into the gaps
    assert not _fusable([f32], [torch.zeros(3, 2).t()])  # the gradient laid out otherwise than its parameter
    kernel = torch.zeros(4, 1, 3, 3)
    assert _fusable([kernel], [torch.zeros(4, 3, 3, 1).permute(0, 3, 1, 2)])  # only a size-1 dim's stride differs
    assert not _fusable([torch.zeros(2, dtype=torch.int64)], [torch.zeros(2, dtype=torch.int64)])


# ---------------------------------------------------------------- clipping
def test_clipnorm_rescales_by_global_norm_over_all_gradients():
    # every single tensor's norm is below 1.5, their global norm is above it: only a global clip changes them
    steps = [[np.array([0.8, 0.6, 0.0]), np.array([[0.6, 0.8], [0.0, 0.0]])]] * 3
    assert all(np.linalg.norm(g) < 1.5 for g in steps[0])
    actual = torch_trajectory(SGD(learning_rate=1.0, clipnorm=1.0), steps=steps)
    expected = reference_trajectory("sgd", steps=steps, lr=1.0, clipnorm=1.0)
    assert_trajectories_close(actual, expected)
    # hand-derived: global norm sqrt(2), factor 1/sqrt(2)
    np.testing.assert_allclose(actual[0][0], INITIAL[0] - np.array([0.8, 0.6, 0.0]) / math.sqrt(2), rtol=1e-12)


def test_clipnorm_leaves_gradients_below_the_threshold_unchanged():
    actual = torch_trajectory(SGD(learning_rate=0.1, clipnorm=100.0))
    assert_trajectories_close(actual, reference_trajectory("sgd", lr=0.1))


def test_clipvalue_clips_each_element_then_adam_updates():
    actual = torch_trajectory(Adam(learning_rate=0.01, clipvalue=0.5))
    assert_trajectories_close(actual, reference_trajectory("adam", lr=0.01, clipvalue=0.5))


def test_clipnorm_then_clipvalue_in_keras_order():
    actual = torch_trajectory(RMSprop(learning_rate=0.01, clipnorm=1.0, clipvalue=0.3))
    assert_trajectories_close(actual, reference_trajectory("rmsprop", lr=0.01, clipnorm=1.0, clipvalue=0.3))


def test_clipping_does_not_modify_param_grad():
    p = torch.nn.Parameter(torch.zeros(2, dtype=torch.float64))
    opt = SGD(clipnorm=0.1, clipvalue=0.01).bind([p])
    p.grad = torch.tensor([3.0, 4.0], dtype=torch.float64)
    opt.step()
    assert p.grad.tolist() == [3.0, 4.0]


# ---------------------------------------------------------------- learning rate and Keras attributes
def test_lr_is_an_alias_of_learning_rate_and_wins_when_both_given():
    assert SGD(lr=0.5).learning_rate == 0.5
    assert SGD(learning_rate=0.2, lr=0.5).lr == 0.5  # K231: kwargs.pop('lr', learning_rate)
    assert_trajectories_close(torch_trajectory(Adam(lr=0.01)), reference_trajectory("adam", lr=0.01))


def test_lr_setter_takes_effect_on_the_next_step():
    p = torch.nn.Parameter(torch.zeros(1, dtype=torch.float64))
    opt = SGD(learning_rate=0.1).bind([p])
    p.grad = torch.ones(1, dtype=torch.float64)
    opt.step()
    opt.lr = 0.5
    assert opt.learning_rate == 0.5 and opt.param_groups[0]["lr"] == 0.5
    opt.step()
    assert p.item() == pytest.approx(-0.6, rel=1e-12)


def test_learning_rate_set_before_binding_is_used_after_binding():
    opt = Adagrad()
    opt.learning_rate = 0.3
    p = torch.nn.Parameter(torch.ones(1, dtype=torch.float64))
    opt.bind([p])
    assert opt.param_groups[0]["lr"] == 0.3


def test_iterations_counts_steps_and_epsilon_defaults_to_backend_epsilon():
    opt = Adam()
    assert opt.iterations == 0 and opt.epsilon == EPS
    torch_trajectory(opt)
    assert opt.iterations == len(GRADS)
    assert isinstance(opt.iterations, int)


def test_unknown_keyword_argument_raises_type_error_naming_it_and_the_allowed_ones():
    with pytest.raises(TypeError) as info:
        Adam(learning_rat=0.1)
    message = str(info.value)
    assert "Unexpected keyword argument passed to optimizer" in message and "'learning_rat'" in message
    for allowed in ("learning_rate", "beta_1", "amsgrad", "lr", "decay", "clipnorm", "clipvalue"):
        assert allowed in message


def test_nadam_rejects_decay_as_keras_231_does():
    with pytest.raises(TypeError, match="'decay'"):
        Nadam(decay=0.01)
    assert not hasattr(Nadam(), "decay")


def test_sgd_rejects_epsilon_as_keras_231_does():
    with pytest.raises(TypeError, match="'epsilon'"):
        SGD(epsilon=1e-3)


def test_get_config_is_keras_style_and_from_config_round_trips():
    opt = Adam(lr=0.002, beta_1=0.8, decay=0.01, clipnorm=2.0)
    assert opt.get_config() == {"learning_rate": 0.002, "beta_1": 0.8, "beta_2": 0.999, "decay": 0.01,
                                "epsilon": EPS, "amsgrad": False, "clipnorm": 2.0}
    assert SGD().get_config() == {"learning_rate": 0.01, "momentum": 0.0, "decay": 0.0, "nesterov": False}
    assert Nadam().get_config() == {"learning_rate": 0.002, "beta_1": 0.9, "beta_2": 0.999, "epsilon": EPS,
                                    "schedule_decay": 0.004}
    clone = Adam.from_config(opt.get_config())
    assert clone.get_config() == opt.get_config()


def test_serialize_gives_class_name_and_config_that_get_accepts():
    data = optimizers.serialize(RMSprop(rho=0.8, clipvalue=1.0))
    assert data == {"class_name": "RMSprop",
                    "config": {"learning_rate": 0.001, "rho": 0.8, "decay": 0.0, "epsilon": EPS, "clipvalue": 1.0}}
    restored = optimizers.get(data)
    assert isinstance(restored, RMSprop) and restored.get_config() == data["config"]


# ---------------------------------------------------------------- get / bind
@pytest.mark.parametrize("name, cls", [
    ("sgd", SGD), ("SGD", SGD), ("rmsprop", RMSprop), ("RMSprop", RMSprop), ("RMSPROP", RMSprop),
    ("adagrad", Adagrad), ("Adagrad", Adagrad), ("adadelta", Adadelta), ("Adadelta", Adadelta),
    ("adam", Adam), ("Adam", Adam), ("ADAM", Adam), ("adamax", Adamax), ("Adamax", Adamax),
    ("nadam", Nadam), ("Nadam", Nadam)])
def test_get_resolves_keras_names_case_insensitively_with_keras_defaults(name, cls):
    opt = optimizers.get(name)
    assert type(opt) is cls
    assert opt.lr == KERAS_DEFAULTS[cls.__name__.lower()]["lr"]


def test_lowercase_aliases_are_the_classes():
    assert optimizers.sgd is SGD and optimizers.adam is Adam and optimizers.rmsprop is RMSprop
    assert optimizers.adagrad is Adagrad and optimizers.adadelta is Adadelta
    assert optimizers.adamax is Adamax and optimizers.nadam is Nadam


def test_get_instantiates_one_of_our_classes_with_its_defaults():
    opt = optimizers.get(Adamax)
    assert type(opt) is Adamax and opt.lr == 0.002


def test_get_dict_config_builds_the_configured_optimizer():
    opt = optimizers.get({"class_name": "Adam", "config": {"lr": 0.01, "amsgrad": True}})
    assert isinstance(opt, Adam) and opt.learning_rate == 0.01 and opt.amsgrad is True


def test_get_returns_instances_unchanged():
    ours = Adam()
    assert optimizers.get(ours) is ours
    theirs = torch.optim.SGD([torch.nn.Parameter(torch.ones(1))], lr=0.1)
    assert optimizers.get(theirs) is theirs


def test_bind_instantiates_a_torch_optimizer_class_on_the_params():
    params = make_params()
    opt = optimizers.bind(torch.optim.AdamW, params)
    assert isinstance(opt, torch.optim.AdamW)
    assert opt.param_groups[0]["params"] == params
    assert opt.defaults["lr"] == 1e-3  # torch's own default


def test_bind_calls_a_factory_with_the_params():
    params = make_params()
    opt = optimizers.bind(lambda ps: torch.optim.SGD(ps, lr=0.25), params)
    assert isinstance(opt, torch.optim.SGD) and opt.param_groups[0]["lr"] == 0.25


def test_bind_accepts_a_torch_instance_built_on_the_params_and_rejects_a_foreign_one():
    params = make_params()
    theirs = torch.optim.Adam(params)
    assert optimizers.bind(theirs, iter(params)) is theirs
    with pytest.raises(ValueError, match="optimizes none of this model's parameters"):
        optimizers.bind(theirs, make_params())


def test_bind_by_name_returns_our_bound_optimizer():
    params = make_params()
    opt = optimizers.bind("nadam", params)
    assert isinstance(opt, Nadam) and opt.param_groups[0]["params"] == params


def test_get_unknown_name_raises_value_error_listing_known_names():
    with pytest.raises(ValueError) as info:
        optimizers.get("adamw")
    message = str(info.value)
    assert message.startswith("optimizer:") and "'adamw'" in message
    for name in ("'sgd'", "'rmsprop'", "'adagrad'", "'adadelta'", "'adam'", "'adamax'", "'nadam'"):
        assert name in message


def test_get_uninterpretable_identifier_raises_type_error():
    with pytest.raises(TypeError, match="optimizer: Could not interpret optimizer identifier: 42"):
        optimizers.get(42)


def test_factory_returning_something_else_raises_type_error():
    with pytest.raises(TypeError, match="must return a torch.optim.Optimizer"):
        optimizers.bind(lambda ps: None, make_params())


# ---------------------------------------------------------------- binding
def test_binding_twice_to_the_same_params_is_a_no_op_and_keeps_state():
    params = make_params()
    opt = Adam()
    torch_trajectory(opt, params=params, steps=GRADS[:2])
    state_before = opt.state[params[0]]["m"].clone()
    assert opt.bind(list(params)) is opt
    assert opt.iterations == 2 and torch.equal(opt.state[params[0]]["m"], state_before)


def test_binding_to_different_params_raises_one_optimizer_per_model():
    opt = Adam().bind(make_params())
    with pytest.raises(ValueError, match="one optimizer per model"):
        opt.bind(make_params())


def test_step_and_state_dict_before_binding_raise_not_attached():
    opt = Adam()
    for call in (opt.step, opt.state_dict, opt.zero_grad):
        with pytest.raises(RuntimeError, match="not attached to a model yet"):
            call()


def test_bind_accepts_param_group_dicts_with_their_own_lr():
    params = make_params()
    opt = SGD(learning_rate=0.1).bind([{"params": [params[0]]}, {"params": [params[1]], "lr": 0.0}])
    for p, g in zip(params, GRADS[0]):
        p.grad = torch.tensor(g)
    opt.step()
    np.testing.assert_allclose(params[0].detach().numpy(), INITIAL[0] - 0.1 * GRADS[0][0], rtol=1e-12)
    np.testing.assert_allclose(params[1].detach().numpy(), INITIAL[1], rtol=1e-12)


def test_params_without_grad_are_skipped():
    params = make_params()
    opt = Adam().bind(params)
    params[0].grad = torch.ones(3, dtype=torch.float64)
    opt.step()
    assert len(opt.state) == 1 and params[1] not in opt.state
    np.testing.assert_array_equal(params[1].detach().numpy(), INITIAL[1])


def test_step_runs_the_closure_with_grad_enabled_and_returns_its_loss():
    p = torch.nn.Parameter(torch.tensor([2.0], dtype=torch.float64))
    opt = SGD(learning_rate=0.1).bind([p])

    def closure():
        opt.zero_grad()
        loss = (p ** 2).sum()
        loss.backward()
        return loss

    loss = opt.step(closure)
    assert loss.item() == 4.0 and p.item() == pytest.approx(2.0 - 0.1 * 4.0)


# ---------------------------------------------------------------- saving and torch interop
@pytest.mark.parametrize("make", [lambda: Adam(lr=0.01, decay=0.2), lambda: Nadam(),
                                  lambda: SGD(lr=0.1, momentum=0.9, decay=0.1), lambda: Adadelta()])
def test_state_dict_round_trip_preserves_iterations_and_gives_identical_next_steps(make):
    params = make_params()
    original = make()
    torch_trajectory(original, params=params, steps=GRADS[:3])
    saved = copy.deepcopy(original.state_dict())
    assert saved["keras"] == {"iterations": 3}

    restored_params = [torch.nn.Parameter(p.detach().clone()) for p in params]
    restored = make().bind(restored_params)
    restored.load_state_dict(saved)
    assert restored.iterations == 3
    after_original = torch_trajectory(original, params=params, steps=GRADS[3:])
    after_restored = torch_trajectory(restored, params=restored_params, steps=GRADS[3:])
    for a, b in zip(after_original, after_restored):
        for x, y in zip(a, b):
            np.testing.assert_array_equal(x, y)


def test_state_dict_resume_matches_an_uninterrupted_keras_run():
    params = make_params()
    first = Nadam()
    torch_trajectory(first, params=params, steps=GRADS[:2])
    resumed = Nadam().bind(params)
    resumed.load_state_dict(first.state_dict())
    actual = torch_trajectory(resumed, params=params, steps=GRADS[2:])
    assert_trajectories_close(actual, reference_trajectory("nadam")[2:])


def test_deepcopy_keeps_iterations_and_clip_settings():
    opt = Adam(clipnorm=1.0)
    torch_trajectory(opt, steps=GRADS[:2])
    clone = copy.deepcopy(opt)
    assert clone.iterations == 2 and clone.clipnorm == 1.0


def test_step_lr_scheduler_changes_the_keras_lr():
    p = torch.nn.Parameter(torch.zeros(1, dtype=torch.float64))
    opt = SGD(learning_rate=1.0).bind([p])
    scheduler = torch.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.1)
    lrs = []
    for _ in range(4):
        p.grad = torch.ones(1, dtype=torch.float64)
        opt.step()
        scheduler.step()
        lrs.append(opt.lr)
    assert lrs == pytest.approx([1.0, 0.1, 0.1, 0.01])
    assert p.item() == pytest.approx(-(1.0 + 1.0 + 0.1 + 0.1))


def test_grad_scaler_steps_with_unscaled_gradients():
    p = torch.nn.Parameter(torch.tensor([1.0, 2.0]))
    opt = SGD(learning_rate=0.1).bind([p])
    scaler = torch.amp.GradScaler("cpu", init_scale=16.0)
    scaler.scale((p * torch.tensor([1.0, 3.0])).sum()).backward()
    scaler.step(opt)
    scaler.update()
    assert p.tolist() == pytest.approx([0.9, 1.7]) and opt.iterations == 1
