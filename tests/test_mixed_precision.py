"""Mixed precision policies and jit_compile."""
import numpy as np
import pytest
import torch

from kerasish import mixed_precision
from kerasish.layers import Dense
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


def test_jit_compile_gives_the_eager_results():
    x, y = data()
    eager = make_model()
    eager.fit(x, y, batch_size=16, epochs=2, verbose=0, shuffle=False)
    compiled = make_model(jit_compile={"backend": "aot_eager"})
    compiled.fit(x, y, batch_size=16, epochs=2, verbose=0, shuffle=False)
    assert compiled._forward_impl is not None and not compiled._forward_impl.failed
    for a, b in zip(eager.get_weights(), compiled.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_jit_compile_falls_back_to_eager_with_one_warning_when_compiling_fails(monkeypatch):
    def failing_compile(fn, **options):
        def compiled(*args, **kwargs):
            raise RuntimeError("no C++ compiler found")
        return compiled

    monkeypatch.setattr(torch, "compile", failing_compile)
    x, y = data()
    model = make_model(jit_compile=True)
    with pytest.warns(RuntimeWarning, match=r"jit_compile=True: torch.compile could not compile this model "
                                            r"\(RuntimeError: no C\+\+ compiler found\); training continues"):
        history = model.fit(x, y, batch_size=16, epochs=2, verbose=0)
    reference = make_model().fit(x, y, batch_size=16, epochs=2, verbose=0)
    assert history.history["loss"] == pytest.approx(reference.history["loss"], rel=1e-6)


def test_bad_jit_compile_value_is_rejected_at_compile():
    with pytest.raises(ValueError, match="jit_compile must be True, False, 'auto' or a dict"):
        make_model(jit_compile="yes")
