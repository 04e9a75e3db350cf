"""kerasish.backend.compat and the K namespace as a whole: every public name of Keras 2.3.1's ``keras.backend``
exists; TensorFlow-only names are no-ops where eager PyTorch complies and errors that name the alternative
where nothing corresponds."""
import pytest
import torch

from kerasish import backend as K

# The names keras/backend/__init__.py (Keras 2.3.1) imports for the TensorFlow backend ('pattern_broadcast' is
# Theano's).
KERAS_231_BACKEND_NAMES = """
abs all any arange argmax argmin backend batch_dot batch_flatten batch_get_value batch_normalization
batch_set_value bias_add binary_crossentropy cast cast_to_floatx categorical_crossentropy clear_session clip
concatenate constant control_dependencies conv1d conv2d conv2d_transpose conv3d conv3d_transpose cos count_params
ctc_batch_cost ctc_decode ctc_label_dense_to_sparse cumprod cumsum depthwise_conv2d dot dropout dtype eager elu
epsilon equal eval exp expand_dims eye flatten floatx foldl foldr function gather get_session get_uid get_value
gradients greater greater_equal hard_sigmoid identity image_data_format in_test_phase in_top_k in_train_phase
int_shape is_keras_tensor is_placeholder is_sparse is_tensor is_variable l2_normalize learning_phase less
less_equal local_conv1d local_conv2d log logsumexp manual_variable_initialization map_fn max maximum mean min
minimum moving_average_update name_scope ndim normalize_batch_in_training normalize_data_format not_equal one_hot
ones ones_like permute_dimensions placeholder pool2d pool3d pow print_tensor prod random_binomial random_normal
random_normal_variable random_uniform random_uniform_variable relu repeat repeat_elements reset_uids reshape
resize_images resize_volumes reverse rnn round separable_conv1d separable_conv2d set_epsilon set_floatx
set_image_data_format set_learning_phase set_session set_value shape sigmoid sign sin size slice softmax softplus
softsign sparse_categorical_crossentropy spatial_2d_padding spatial_3d_padding sqrt square squeeze stack std
stop_gradient sum switch symbolic tanh temporal_padding tile to_dense transpose truncated_normal update update_add
update_sub var variable zeros zeros_like
""".split()

# Symbolic tensors (placeholders, K.function) come with the functional API's KerasTensor.
SYMBOLIC = {"placeholder", "is_placeholder", "function"}


@pytest.mark.parametrize("name", sorted(set(KERAS_231_BACKEND_NAMES) - SYMBOLIC))
def test_every_keras_231_backend_name_exists(name):
    assert callable(getattr(K, name))


def test_backend_is_torch():
    assert K.backend() == "torch"


@pytest.mark.parametrize("call, alternative", [
    (lambda: K.get_session(), r"K\.set_device"),
    (lambda: K.set_session(object()), r"torch\.set_num_threads"),
    (lambda: K.get_graph(), r"K\.clear_session"),
])
def test_session_and_graph_functions_raise_and_name_what_to_use_instead(call, alternative):
    with pytest.raises(RuntimeError, match=rf"no TensorFlow session or graph.*{alternative}"):
        call()


def test_name_scope_and_control_dependencies_are_blocks_that_just_run():
    with K.name_scope("block") as scope:
        assert scope == "block"
        x = K.ones((2,)) * 2
    with K.control_dependencies([x]):
        y = x + 1
    assert y.tolist() == [3.0, 3.0]


def test_symbolic_and_eager_decorators_return_the_function():
    def f():
        return 1

    assert K.symbolic(f) is f and K.eager(f) is f
    assert K.manual_variable_initialization(True) is None


def test_legacy_image_dim_ordering_maps_to_the_data_format():
    assert K.image_dim_ordering() == "tf"
    K.set_image_dim_ordering("th")
    try:
        assert K.image_data_format() == "channels_first" and K.image_dim_ordering() == "th"
    finally:
        K.set_image_data_format("channels_last")
    with pytest.raises(ValueError, match="Unknown dim_ordering"):
        K.set_image_dim_ordering("tensorflow")


def test_config_functions_are_the_same_objects_through_k():
    from kerasish.backend import config
    assert K.get_device is config.get_device and K.set_value is config.set_value
