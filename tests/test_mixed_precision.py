"""Mixed precision policies and jit_compile."""
import warnings

import numpy as np
import pytest
import torch

from kerasish import mixed_precision
from kerasish.layers import Dense, Lambda
from kerasish.models import Sequential
from kerasish.optimizers import SGD


@pytest.fixture(autouse=True)
def float32_policy():
    yield
    mixed_precision.set_global_policy("float32")


def data(n=64):
    rng = np.random.RandomState(0)
    x = rng.randn(n, 8).astype("float32")
    return x, (x[:, :1] > 0).astype("int64").ravel()


def make_model(**compile_kwargs):
    torch.manual_seed(0)
    model = Sequential([Dense(16, activation="relu", input_dim=8), Dense(2, activation="softmax")])
    model.compile(optimizer=SGD(lr=0.1), loss="sparse_categorical_crossentropy", metrics=["acc"], **compile_kwargs)
    return model


def record_dense_output_dtypes(model):
    dtypes = []
    model.layers[0].register_forward_hook(lambda mod, inp, out: dtypes.append(out.dtype))
    return dtypes


def test_policy_names_and_dtypes():
    policy = mixed_precision.Policy("mixed_float16")
    assert (policy.compute_dtype, policy.variable_dtype, policy.needs_loss_scaling) == ("float16", "float32", True)
    assert mixed_precision.Policy("mixed_bfloat16").autocast_dtype == torch.bfloat16
    with pytest.raises(ValueError, match="mixed precision policy: expected one of"):
        mixed_precision.Policy("mixed_float8")


@pytest.mark.parametrize("policy, dtype", [("mixed_bfloat16", torch.bfloat16), ("mixed_float16", torch.float16)])
def test_mixed_policy_computes_in_low_precision_and_keeps_float32_weights_and_losses(policy, dtype):
    x, y = data()
    model = make_model(dtype_policy=policy)
    dtypes = record_dense_output_dtypes(model)
    history = model.fit(x, y, batch_size=16, epochs=3, verbose=0)
    assert set(dtypes) == {dtype}
    assert all(p.dtype == torch.float32 for p in model.parameters())
    assert all(w.dtype == np.float32 for w in model.get_weights())
    assert history.history["loss"][-1] < history.history["loss"][0]
    reference = make_model().fit(x, y, batch_size=16, epochs=3, verbose=0)
    assert history.history["loss"][-1] == pytest.approx(reference.history["loss"][-1], rel=0.1)


def test_float16_policy_scales_the_loss_and_bfloat16_does_not():
    x, y = data()
    fp16 = make_model(dtype_policy="mixed_float16")
    fp16.fit(x, y, epochs=1, verbose=0)
    assert isinstance(fp16._grad_scaler, torch.amp.GradScaler)
    bf16 = make_model(dtype_policy="mixed_bfloat16")
    bf16.fit(x, y, epochs=1, verbose=0)
    assert bf16._grad_scaler is None


def test_the_global_policy_applies_to_models_compiled_after_it_is_set():
    mixed_precision.set_global_policy("mixed_bfloat16")
    model = make_model()
    assert model.dtype_policy.name == "mixed_bfloat16"
    dtypes = record_dense_output_dtypes(model)
    model.predict(data()[0])
    assert set(dtypes) == {torch.bfloat16}
    assert model.predict(data()[0]).dtype == np.float32


@pytest.fixture
def fresh_dynamo():
    """torch.compile starts from empty caches: dynamo compiles the forward's code again for each model, up to a
    limit after which it runs it uncompiled, so how many models earlier tests compiled would matter."""
    torch._dynamo.reset()
    yield
    torch._dynamo.reset()


def fit_eager_and_compiled(jit_compile):
    """The weights after the same two epochs without and with ``jit_compile``, and the compiled model."""
    x, y = data()
    eager = make_model()
    eager.fit(x, y, batch_size=16, epochs=2, verbose=0, shuffle=False)
    compiled = make_model(jit_compile=jit_compile)
    compiled.fit(x, y, batch_size=16, epochs=2, verbose=0, shuffle=False)
    return eager.get_weights(), compiled.get_weights(), compiled


def test_jit_compile_gives_the_eager_results(fresh_dynamo):
    eager, compiled, model = fit_eager_and_compiled({"backend": "aot_eager"})
    assert model._forward_impl is not None and not model._forward_impl.failed
    for a, b in zip(eager, compiled):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


@pytest.mark.slow
def test_jit_compile_with_the_default_backend_compiles_and_gives_the_eager_results(fresh_dynamo):
    # Inductor, torch's default backend, writes C++ kernels for the CPU: this needs a C++ compiler (g++, or
    # the one named by $CXX). Without one kerasish warns and trains eagerly, and the warning fails this test.
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message="jit_compile", category=RuntimeWarning)
        eager, compiled, model = fit_eager_and_compiled(True)
    assert model._forward_impl is not None and not model._forward_impl.failed
    for a, b in zip(eager, compiled):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def no_cxx_compiler_backend(graph_module, example_inputs):
    raise RuntimeError("no C++ compiler found")


def test_jit_compile_falls_back_to_eager_with_one_warning_when_compiling_fails(fresh_dynamo):
    x, y = data()
    model = make_model(jit_compile={"backend": no_cxx_compiler_backend})
    with pytest.warns(RuntimeWarning, match=r"jit_compile=True: torch.compile could not compile this model "
                                            r"\(RuntimeError: no C\+\+ compiler found\); training continues") as caught:
        history = model.fit(x, y, batch_size=16, epochs=2, verbose=0)
    assert len([w for w in caught if "jit_compile" in str(w.message)]) == 1
    reference = make_model().fit(x, y, batch_size=16, epochs=2, verbose=0)
    assert history.history["loss"] == pytest.approx(reference.history["loss"], rel=1e-6)


def test_jit_compile_falls_back_to_eager_when_inductor_finds_no_cxx_compiler(fresh_dynamo, monkeypatch):
    # A linear layer's forward is one matrix product, which inductor leaves to torch: only the backward (the
    # bias gradient's sum) needs a compiled kernel. torch compiles a backward at the first backward() unless
    # asked to compile it with the forward, and only there can kerasish fall back. The on-disk caches are
    # off: kernels compiled by an earlier run must not hide the missing compiler.
    monkeypatch.setattr(torch._inductor.config.cpp, "cxx", ("no-such-c++-compiler",))
    monkeypatch.setattr(torch._inductor.config, "fx_graph_cache", False)
    monkeypatch.setattr(torch._functorch.config, "enable_autograd_cache", False)
    x, _ = data()
    weights = []
    for jit_compile in (False, True):
        torch.manual_seed(0)
        model = Sequential([Dense(2, input_dim=8)])
        model.compile(optimizer=SGD(lr=0.1), loss="mse", jit_compile=jit_compile)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            model.fit(x, x[:, :2], batch_size=16, epochs=2, verbose=0)
        weights.append(model.get_weights())
    messages = [str(w.message) for w in caught if "jit_compile" in str(w.message)]
    assert len(messages) == 1 and "could not compile this model (InvalidCxxCompiler: No working C++ compiler found" \
        in messages[0], messages
    assert model._forward_impl.failed
    for a, b in zip(*weights):
        np.testing.assert_allclose(a, b, rtol=1e-6)


def armed_lambda_model(function):
    """Dense -> Lambda(function) compiled with jit_compile=True; ``function(x, armed)`` misbehaves only once
    ``armed['now']`` is set (after the model is built)."""
    armed = {"now": False}
    torch.manual_seed(0)
    model = Sequential([Dense(2, input_dim=8), Lambda(lambda x: function(x, armed["now"]))])
    model.compile(optimizer=SGD(lr=0.1), loss="mse", jit_compile=True)
    armed["now"] = True
    return model


def raise_value_error(x, armed):
    if armed:
        raise ValueError("this Lambda rejects its input")
    return x


def multiply_mismatched_shapes(x, armed):
    return x @ torch.ones(3, 3) if armed else x


@pytest.mark.parametrize("function, error, message", [
    (raise_value_error, ValueError, "this Lambda rejects its input"),
    (multiply_mismatched_shapes, RuntimeError, r"mat1 and mat2 shapes cannot be multiplied \(16x2 and 3x3\)"),
])
def test_jit_compile_raises_an_error_of_the_model_as_itself_without_falling_back(fresh_dynamo, function, error,
                                                                                  message):
    x, _ = data()
    model = armed_lambda_model(function)
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message="jit_compile", category=RuntimeWarning)
        with pytest.raises(error, match=message) as raised:
            model.fit(x, x[:, :2], batch_size=16, epochs=1, verbose=0)
    assert type(raised.value) is error  # not dynamo's wrapper
    assert not model._forward_impl.failed


def test_bad_jit_compile_value_is_rejected_at_compile():
    with pytest.raises(ValueError, match="jit_compile must be True, False, 'auto' or a dict"):
        make_model(jit_compile="yes")
