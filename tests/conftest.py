import random
import signal

import numpy as np
import pytest
import torch

from kerasish import backend, mixed_precision

# Tiny test tensors run faster on one thread than on a pool (and timings no longer depend on machine load).
torch.set_num_threads(1)

# The process-wide settings as kerasish starts with them, read before any test can change them.
DEFAULT_SETTINGS = (backend.floatx(), backend.epsilon(), backend.image_data_format(),
                    mixed_precision.global_policy().name, torch.get_default_dtype())

# Environment variables that choose the device or make kerasish a torchrun replica (kerasish reads the first
# five, torch's env:// rendezvous the rest). Tests that need one set it; the shell's values never reach a test.
LAUNCH_ENV_VARS = ("KERASISH_DEVICE", "KERASISH_DIST_TIMEOUT", "WORLD_SIZE", "RANK", "LOCAL_RANK",
                   "LOCAL_WORLD_SIZE", "GROUP_RANK", "ROLE_RANK", "MASTER_ADDR", "MASTER_PORT",
                   "TORCHELASTIC_RUN_ID")


@pytest.fixture(autouse=True, scope="session")
def no_launch_environment():
    """The suite gives the same results in a shell that exported KERASISH_DEVICE or runs under torchrun."""
    with pytest.MonkeyPatch.context() as patch:
        for name in LAUNCH_ENV_VARS:
            patch.delenv(name, raising=False)
        yield


@pytest.fixture(autouse=True)
def fresh_session():
    """Every test starts with fresh layer names (dense_1 ...), seeded generators and the default settings,
    whichever tests ran before it."""
    floatx, epsilon, data_format, policy, default_dtype = DEFAULT_SETTINGS
    backend.set_floatx(floatx)
    backend.set_epsilon(epsilon)
    backend.set_image_data_format(data_format)
    mixed_precision.set_global_policy(policy)
    torch.set_default_dtype(default_dtype)
    backend.clear_session()
    backend.set_device(None)
    torch.manual_seed(0)
    np.random.seed(0)
    random.seed(0)
    yield
    backend.set_device(None)


@pytest.fixture
def default_sigint_handler():
    """SIGINT raises KeyboardInterrupt for the test's duration, as in an interactive Python; the previous
    handler is put back after it.

    A process started in the background by a non-interactive shell (``scripts/test &``, nohup, many CI
    runners) inherits SIGINT ignored, and Python then installs no ``default_int_handler``; kerasish leaves
    such a process's signals alone, so a test of what Ctrl-C does must set up the handler itself.
    """
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


@pytest.fixture
def keras_home(tmp_path, monkeypatch):
    """A KERAS_HOME whose models cache (returned) is empty, with no network and no ImageNet class index read
    yet: where the keras.applications tests put the files get_file would fetch. test_data_utils has its own."""
    from urllib.error import URLError

    from kerasish.applications import imagenet_utils
    from kerasish.utils import data_utils

    def offline(url, data=None):
        raise URLError("[Errno 101] Network is unreachable")

    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    monkeypatch.setattr(data_utils, "urlopen", offline)
    monkeypatch.setattr(imagenet_utils, "CLASS_INDEX", None)
    (tmp_path / "models").mkdir()
    return tmp_path / "models"
