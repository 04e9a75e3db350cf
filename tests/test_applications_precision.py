"""Application models under mixed precision and ``jit_compile`` (issue 14), on tiny inputs.

A frozen MobileNetV2 base with a new head (the transfer-learning setup) trains under each mixed policy: the
layers compute in the low dtype, weights and moving statistics stay float32, and the frozen base keeps its
weights and moving statistics (Keras 2.3.1 frozen BatchNormalization). Under ``jit_compile`` the models compile
as one graph and train to the eager weights. Full-size compiles (dynamo traces ~150 layers) are marked slow.
"""
import numpy as np
import pytest
import torch

from kerasish import layers, mixed_precision
from kerasish.applications import MobileNetV2, ResNet50
from kerasish.models import Model
from kerasish.optimizers import SGD

SIZE = 32  # the smallest input Keras 2.3.1 allows these models without ImageNet weights


@pytest.fixture(autouse=True)
def float32_policy():
    yield
    mixed_precision.set_global_policy("float32")


@pytest.fixture
def fresh_dynamo():
    torch._dynamo.reset()
    torch._dynamo.utils.counters.clear()
    yield
    torch._dynamo.reset()


@pytest.fixture(scope="module")
def mobilenet_base():
    torch.manual_seed(0)
    return MobileNetV2(weights=None, include_top=False, input_shape=(SIZE, SIZE, 3), pooling="avg", alpha=0.35)


def images(n=8, seed=0):
    rng = np.random.RandomState(seed)
    return rng.uniform(-1, 1, (n, SIZE, SIZE, 3)).astype("float32"), rng.randint(0, 3, n)


def transfer_model(base, **compile_kwargs):
    """Keras 2 transfer learning: frozen base called as a layer, new softmax head."""
    base.trainable = False
    inputs = layers.Input((SIZE, SIZE, 3))
    model = Model(inputs, layers.Dense(3, activation="softmax", name="head")(base(inputs)))
    model.compile(SGD(lr=0.1), "sparse_categorical_crossentropy", metrics=["acc"], **compile_kwargs)
    return model


@pytest.mark.parametrize("policy,dtype", [("mixed_bfloat16", torch.bfloat16), ("mixed_float16", torch.float16)])
def test_frozen_base_trains_head_under_mixed_precision(mobilenet_base, policy, dtype):
    model = transfer_model(mobilenet_base, dtype_policy=policy)
    seen = []
    hook = mobilenet_base.get_layer("block_1_depthwise").register_forward_hook(
        lambda module, inputs, output: seen.append(output.dtype))
    base_before = mobilenet_base.get_weights()
    head_before = model.get_layer("head").get_weights()
    x, y = images()
    try:
        history = model.fit(x, y, batch_size=4, epochs=1, verbose=0)
    finally:
        hook.remove()
    assert seen and set(seen) == {dtype}
    assert np.isfinite(history.history["loss"][0])
    for old, new in zip(base_before, mobilenet_base.get_weights()):  # kernels, gamma/beta, moving statistics
        np.testing.assert_array_equal(old, new)
    head_after = model.get_layer("head").get_weights()
    assert all(w.dtype == np.float32 for w in head_after)
    assert not np.array_equal(head_before[0], head_after[0])
    predictions = model.predict(x)
    assert predictions.dtype == np.float32 and np.isfinite(predictions).all()
    np.testing.assert_allclose(predictions.sum(axis=1), 1.0, rtol=1e-3)


def test_fine_tuned_top_block_moves_float32_statistics_under_float16(mobilenet_base):
    model = transfer_model(mobilenet_base, dtype_policy="mixed_float16")
    mobilenet_base.trainable = True
    for layer in mobilenet_base.layers:
        layer.trainable = layer.name.startswith(("block_16_", "Conv_1"))
    bn = mobilenet_base.get_layer("Conv_1_bn")
    frozen_bn = mobilenet_base.get_layer("block_15_project_BN")
    frozen_before = frozen_bn.get_weights()
    _, _, mean_before, _ = bn.get_weights()
    model.fit(*images(), batch_size=4, epochs=1, verbose=0)
    gamma, _, mean_after, var_after = bn.get_weights()
    assert mean_after.dtype == np.float32 and np.isfinite(mean_after).all() and np.isfinite(var_after).all()
    assert not np.array_equal(mean_before, mean_after)
    for old, new in zip(frozen_before, frozen_bn.get_weights()):
        np.testing.assert_array_equal(old, new)
    mobilenet_base.trainable = False
    for layer in mobilenet_base.layers:
        layer.trainable = True


def first_blocks(base):
    """MobileNetV2 up to its first residual Add: padding, strided and depthwise convolutions, BN, ReLU6, Add."""
    return Model(base.input, base.get_layer("block_2_add").output)


def test_jit_compile_trains_mobilenet_blocks_to_the_eager_weights(mobilenet_base, fresh_dynamo):
    weights = mobilenet_base.get_weights()
    results = []
    for jit_compile in (False, {"backend": "aot_eager"}):
        mobilenet_base.set_weights(weights)
        blocks = first_blocks(mobilenet_base)
        inputs = layers.Input((SIZE, SIZE, 3))
        pooled = layers.GlobalAveragePooling2D()(blocks(inputs))
        model = Model(inputs, layers.Dense(3, activation="softmax", name="head")(pooled))
        model.get_layer("head").set_weights([np.full((pooled.shape[-1], 3), 0.1, "float32"), np.zeros(3, "float32")])
        model.compile(SGD(lr=0.1), "sparse_categorical_crossentropy", jit_compile=jit_compile)
        model.fit(*images(), batch_size=4, epochs=1, verbose=0, shuffle=False)
        results.append((model.get_weights(), model.predict(images(seed=1)[0])))
    assert model._forward_impl is not None and not model._forward_impl.failed
    # one graph per mode: no break (a break inside the graph loop makes dynamo run the whole loop eagerly)
    assert not torch._dynamo.utils.counters["graph_break"]
    (eager_weights, eager_predictions), (compiled_weights, compiled_predictions) = results
    for a, b in zip(eager_weights, compiled_weights):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(eager_predictions, compiled_predictions, rtol=1e-4, atol=1e-5)
    mobilenet_base.set_weights(weights)


@pytest.mark.slow
@pytest.mark.parametrize("make_base", [lambda: MobileNetV2(weights=None, include_top=False, alpha=0.35,
                                                           input_shape=(SIZE, SIZE, 3), pooling="avg"),
                                       lambda: ResNet50(weights=None, include_top=False,
                                                        input_shape=(SIZE, SIZE, 3), pooling="avg")],
                         ids=["MobileNetV2", "ResNet50"])
def test_whole_models_compile_as_one_graph_under_mixed_bfloat16(make_base, fresh_dynamo):
    model = transfer_model(make_base(), jit_compile={"backend": "aot_eager"}, dtype_policy="mixed_bfloat16")
    x, y = images()
    history = model.fit(x, y, batch_size=4, epochs=1, verbose=0)
    assert not model._forward_impl.failed and np.isfinite(history.history["loss"][0])
    assert np.isfinite(model.predict(x)).all()


def test_relu6_of_mobilenet_v2_gives_tf_relu6_values_and_gradients():
    # Keras 2.3.1 K.relu(x, max_value=6) is tf.nn.relu6: min(max(x, 0), 6), gradient 1 only strictly inside
    # (0, 6) (TF's Relu6Grad); computed as one relu6 kernel (it was four elementwise ops, a third of
    # MobileNetV2's forward time on the CPU)
    x = torch.tensor([-2.0, 0.0, 0.5, 6.0, 7.5], requires_grad=True)
    out = layers.ReLU(6.0)(x)
    out.sum().backward()
    np.testing.assert_array_equal(out.detach().numpy(), np.minimum(np.maximum(x.detach().numpy(), 0), 6))
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0, 1.0, 0.0, 0.0])
