"""In inference a functional model's elementwise activations (ReLU, Activation('relu')) write their output over
their input when nothing else can read it (models/graph.py ``call_in_place``); never when another layer reads the
input later, when it shares memory with another value or a model input, when something outside holds it; with
autograd on only for an input that needs no gradient and that the activation alone reads. Expected values come from NumPy and from the same model run with autograd on (no in-place)."""
import numpy as np
import torch

from kerasish import layers
from kerasish.models import Model
from kerasish.models import graph as graph_module

RNG = np.random.RandomState(0)


def spy_in_place(*layers_to_watch) -> list:
    """Records, per call of their ``call_in_place``, whether it wrote over its input."""
    calls = []
    for layer in layers_to_watch:
        watch(layer, calls)
    return calls


def watch(layer, calls: list) -> None:
    original = layer.call_in_place

    def recording(x):
        result = original(x)
        calls.append(result is x)
        return result

    layer.call_in_place = recording


def times_one(t):
    return t * 1.0  # a fresh tensor


def special_values(shape) -> np.ndarray:
    x = (RNG.randn(*shape) * 5).astype("float32")
    x.flat[:6] = [np.nan, np.inf, -np.inf, -0.0, 0.0, 6.0]
    return x


def bits(a: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(a, dtype=np.float32).view(np.uint32)


def test_predict_overwrites_dead_activation_inputs_with_bit_identical_results():
    inputs = layers.Input((5, 4))
    relu6, relu, relu3 = layers.ReLU(6.0), layers.Activation("relu"), layers.ReLU(max_value=3.0)
    plain = layers.ReLU()
    x = layers.Lambda(times_one)(inputs)
    y = relu3(plain(relu(relu6(x))))
    model = Model(inputs, layers.Lambda(times_one)(y))
    spies = [spy_in_place(layer) for layer in (relu6, relu, plain, relu3)]
    data = special_values((3, 5, 4))
    predicted = model.predict(data, batch_size=3)
    assert all(calls == [True] for calls in spies)
    with torch.enable_grad():  # autograd on: the out-of-place path
        reference = model(torch.from_numpy(data)).detach().numpy()
    assert np.array_equal(bits(predicted), bits(reference))
    finite = np.isfinite(data)
    np.testing.assert_array_equal(predicted[finite], np.clip(data, 0, 3)[finite])
    assert np.isnan(predicted.flat[0]) and predicted.flat[1] == 3 and predicted.flat[2] == 0


def test_activation_input_read_again_later_is_not_overwritten():
    inputs = layers.Input((6,))
    x = layers.Lambda(times_one)(inputs)
    relu = layers.ReLU(6.0)
    model = Model(inputs, layers.Add()([relu(x), x]))  # the Add reads x after the ReLU
    calls = spy_in_place(relu)
    data = special_values((4, 6))[:, ::-1].copy()
    expected = np.clip(data, 0, 6) + data
    np.testing.assert_array_equal(model.predict(data), expected)
    assert calls == []


def test_view_of_a_live_value_is_not_overwritten():
    inputs = layers.Input((2, 3))
    x = layers.Lambda(times_one)(inputs)
    flat = layers.Reshape((6,))(x)                      # may be a view of x
    view = layers.Lambda(lambda t: t.view(-1, 6))(x)   # a view of x
    relu_flat, relu_view = layers.ReLU(), layers.ReLU()
    out = layers.Add()([relu_flat(flat), relu_view(view), layers.Flatten()(x)])
    model = Model(inputs, out)
    calls = spy_in_place(relu_flat, relu_view)
    data = RNG.randn(4, 2, 3).astype("float32")
    flat_data = data.reshape(4, 6)
    np.testing.assert_array_equal(model.predict(data), 2 * np.maximum(flat_data, 0) + flat_data)
    assert calls == []


def test_value_whose_view_is_still_live_is_not_overwritten():
    inputs = layers.Input((6,))
    x = layers.Lambda(times_one)(inputs)
    view = layers.Lambda(lambda t: t[:, :3])(x)  # read after the ReLU: shares x's memory
    relu = layers.ReLU()
    out = layers.Concatenate()([relu(x), view])
    model = Model(inputs, out)
    calls = spy_in_place(relu)
    data = RNG.randn(4, 6).astype("float32")
    np.testing.assert_array_equal(model.predict(data), np.concatenate([np.maximum(data, 0), data[:, :3]], 1))
    assert calls == []


def test_value_held_outside_the_model_is_not_overwritten():
    kept = []

    def keep(t):
        out = t * 1.0
        kept.append(out)
        return out

    inputs = layers.Input((6,))
    relu = layers.ReLU()
    model = Model(inputs, layers.Lambda(times_one)(relu(layers.Lambda(keep)(inputs))))
    calls = spy_in_place(relu)
    data = RNG.randn(4, 6).astype("float32")
    np.testing.assert_array_equal(model.predict(data), np.maximum(data, 0))
    np.testing.assert_array_equal(kept[-1].numpy(), data)
    assert calls == []


def test_model_inputs_are_not_overwritten():
    inputs = layers.Input((6,))
    direct, through_identity = layers.ReLU(), layers.ReLU()
    out = layers.Add()([layers.Lambda(times_one)(direct(inputs)),
                        layers.Lambda(times_one)(through_identity(layers.Lambda(lambda t: t)(inputs)))])
    model = Model(inputs, out)
    calls = spy_in_place(direct, through_identity)
    data = torch.from_numpy(RNG.randn(4, 6).astype("float32"))
    original = data.clone()
    with torch.no_grad():
        result = model(data)
    assert torch.equal(data, original)
    np.testing.assert_array_equal(result.numpy(), 2 * np.maximum(original.numpy(), 0))
    assert calls == []


def test_training_overwrites_only_inputs_that_need_no_gradient_and_have_one_reader():
    inputs = layers.Input((4,))
    early, late = layers.Activation("relu"), layers.Activation("relu")
    # early's input needs no gradient (no weights before it) and early alone reads it: no autograd node holds
    # it, so training may overwrite it; late's input comes from a trainable Dense: it needs a gradient
    hidden = late(layers.Dense(8)(early(layers.Lambda(times_one)(inputs))))
    model = Model(inputs, layers.Dense(1)(hidden))
    model.compile("sgd", "mse")
    reference = Model.from_config(model.get_config(), custom_objects={"times_one": times_one})
    reference.set_weights(model.get_weights())
    reference.compile("sgd", "mse")
    calls = spy_in_place(early, late)
    data = RNG.randn(16, 4).astype("float32")
    model.fit(data, data[:, :1], epochs=1, batch_size=8, shuffle=False, verbose=0)
    model.train_on_batch(data, data[:, :1])
    assert calls == [True, True, True]          # early, in both fit steps and train_on_batch; late never
    original = graph_module._overwritable
    try:
        graph_module._overwritable = lambda *args: False  # the reference trains out of place
        reference.fit(data, data[:, :1], epochs=1, batch_size=8, shuffle=False, verbose=0)
        reference.train_on_batch(data, data[:, :1])
    finally:
        graph_module._overwritable = original
    for ours, theirs in zip(model.get_weights(), reference.get_weights()):
        assert np.array_equal(bits(ours), bits(theirs))
    model.predict(data)
    assert calls[3:] == [True, True]


def test_training_keeps_a_no_gradient_input_that_another_layer_also_reads():
    inputs = layers.Input((4,))
    relu = layers.Activation("relu")
    shared = layers.Lambda(times_one)(inputs)   # needs no gradient, read by the Dense (which saves it) and relu
    out = layers.Add()([layers.Dense(4)(shared), relu(shared)])
    model = Model(inputs, layers.Dense(1)(out))
    model.compile("sgd", "mse")
    calls = spy_in_place(relu)
    data = RNG.randn(8, 4).astype("float32")
    model.train_on_batch(data, data[:, :1])     # an overwrite would make autograd's saved input stale
    assert calls == []
    model.predict(data)                         # relu is the input's last reader: in inference it may overwrite
    assert calls == [True]


def test_value_sharing_memory_without_being_a_view_is_not_overwritten():
    inputs = layers.Input((6,))
    x = layers.Lambda(times_one)(inputs)
    # same memory as x, no _base; made before the ReLU (the ReLU is x's last reader), read after it
    shared = layers.Lambda(lambda t: t.detach())(x)
    relu = layers.ReLU()
    model = Model(inputs, layers.Concatenate()([shared, relu(x)]))
    assert [step.operation for step in model._plan.steps][-3:-1] == [shared._keras_history[0], relu]
    calls = spy_in_place(relu)
    data = RNG.randn(4, 6).astype("float32")
    np.testing.assert_array_equal(model.predict(data), np.concatenate([data, np.maximum(data, 0)], 1))
    assert calls == []


def test_view_of_a_tensor_outside_the_model_is_not_overwritten():
    constant = torch.from_numpy(RNG.randn(2, 6).astype("float32"))
    original = constant.clone()
    inputs = layers.Input((6,))
    relu = layers.ReLU()
    view = layers.Lambda(lambda t: constant[: t.shape[0]])(inputs)
    model = Model(inputs, layers.Lambda(times_one)(relu(view)))
    calls = spy_in_place(relu)
    np.testing.assert_array_equal(model.predict(np.zeros((2, 6), "float32")), np.maximum(original.numpy(), 0))
    assert torch.equal(constant, original)
    assert calls == []


def test_forward_hooks_see_the_input_as_it_was():
    inputs = layers.Input((6,))
    relu = layers.ReLU()
    model = Model(inputs, layers.Lambda(times_one)(relu(layers.Lambda(times_one)(inputs))))
    seen = []
    relu.register_forward_hook(lambda module, args, output: seen.append(args[0].clone()))
    data = RNG.randn(3, 6).astype("float32")
    np.testing.assert_array_equal(model.predict(data), np.maximum(data, 0))
    np.testing.assert_array_equal(seen[-1].numpy(), data)


def test_value_passed_through_unchanged_and_read_again_is_not_overwritten():
    inputs = layers.Input((6,))
    x = layers.Lambda(times_one)(inputs)
    passed = layers.Activation("linear")(layers.Dropout(0.5)(x))  # in inference both may return x itself
    relu = layers.ReLU()
    model = Model(inputs, layers.Add()([relu(passed), x]))
    calls = spy_in_place(relu)
    data = RNG.randn(4, 6).astype("float32")
    np.testing.assert_array_equal(model.predict(data), np.maximum(data, 0) + data)
    assert calls == []


# ------------------------------------------------------------------------------------------ Add
def spy_add(layer) -> list:
    """Records, per call of the Add's ``call_in_place``, whether it wrote over its first input."""
    calls = []
    original = layer.call_in_place

    def recording(inputs):
        first = inputs[0]
        result = original(inputs)
        calls.append(result is first)
        return result

    layer.call_in_place = recording
    return calls


def residual_model():
    """A ResNet-style block: the shortcut and the branch meet in an Add whose first input nobody reads after."""
    inputs = layers.Input((6,))
    shortcut = layers.Dense(6)(inputs)
    branch = layers.Dense(6)(layers.Activation("relu")(shortcut))
    add = layers.Add()
    return Model(inputs, layers.Dense(2)(add([layers.Lambda(times_one)(branch), shortcut, branch]))), add


def test_predict_adds_into_the_first_input_with_bit_identical_results():
    model, add = residual_model()
    calls = spy_add(add)
    data = special_values((4, 6))
    predicted = model.predict(data)
    assert calls == [True]
    with torch.enable_grad():  # autograd on: no in-place sum
        reference = model(torch.from_numpy(data)).detach().numpy()
    assert calls == [True]     # (the spy saw no call: the out-of-place path ran)
    assert np.array_equal(bits(predicted), bits(reference))


def test_add_keeps_a_first_input_read_again_the_model_input_and_broadcast_sums():
    inputs = layers.Input((6,))
    hidden = layers.Lambda(times_one)(inputs)
    read_again, from_input, broadcast = layers.Add(), layers.Add(), layers.Add()
    summed = read_again([hidden, layers.Lambda(times_one)(inputs)])
    on_input = from_input([inputs, summed])               # the first input is the model input
    column = layers.Lambda(lambda t: t[:, :1] * 1.0)(hidden)  # (n, 1) + (n, 6): broadcast, cannot fit in place
    model = Model(inputs, [layers.Multiply()([on_input, hidden]), broadcast([column, on_input])])
    spies = [spy_add(layer) for layer in (read_again, from_input, broadcast)]
    data = RNG.randn(3, 6).astype("float32")
    kept = data.copy()
    product, wide = model.predict(data)
    assert [calls for calls in spies] == [[], [], [False]]  # hidden is read again; inputs are never written
    np.testing.assert_allclose(product, (data + data + data) * data, rtol=1e-6)
    np.testing.assert_allclose(wide, data[:, :1] + 3 * data, rtol=1e-6)
    assert np.array_equal(data, kept)


def test_training_adds_into_a_frozen_branch_with_the_reference_weights():
    """A frozen base's output (no gradient, one reader) may take the sum in training; the trainable branch's
    gradients are those of the out-of-place sum."""
    inputs = layers.Input((5,))
    frozen = layers.Dense(5, trainable=False)
    add = layers.Add()
    out = layers.Dense(1)(add([frozen(inputs), layers.Dense(5)(inputs)]))
    model = Model(inputs, out)
    model.compile("sgd", "mse")
    reference = Model.from_config(model.get_config())
    reference.set_weights(model.get_weights())
    reference.layers[1].trainable = False
    reference.compile("sgd", "mse")
    calls = spy_add(add)
    data = RNG.randn(16, 5).astype("float32")
    model.fit(data, data[:, :1], epochs=2, batch_size=8, shuffle=False, verbose=0)
    assert calls == [True] * 4
    original = graph_module._overwritable
    try:
        graph_module._overwritable = lambda *args: False
        reference.fit(data, data[:, :1], epochs=2, batch_size=8, shuffle=False, verbose=0)
    finally:
        graph_module._overwritable = original
    for ours, theirs in zip(model.get_weights(), reference.get_weights()):
        assert np.array_equal(bits(ours), bits(theirs))
