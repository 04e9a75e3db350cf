"""The Keras 2 backend ``K`` on PyTorch: ``from kerasish import backend as K``.

``config`` holds the process-wide settings (device, floatx, epsilon, image_data_format, layer-name counters)
and reading/writing values; the functions of Keras 2.3.1's ``keras.backend`` are re-exported here by name.
"""
from kerasish.backend.config import (
    DEVICE_ENV_VAR,
    clear_session,
    count_params,
    epsilon,
    eval,
    floatx,
    get_device,
    get_uid,
    get_value,
    image_data_format,
    normalize_data_format,
    reset_uids,
    set_device,
    set_epsilon,
    set_floatx,
    set_image_data_format,
    set_value,
    to_device,
    torch_floatx,
)
