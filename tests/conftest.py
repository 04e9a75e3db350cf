import signal

import numpy as np
import pytest
import torch

from kerasish import backend

# Tiny test tensors run faster on one thread than on a pool (and timings no longer depend on machine load).
torch.set_num_threads(1)


@pytest.fixture(autouse=True)
def fresh_session():
    """Every test starts with fresh layer names (dense_1 ...) and seeded generators."""
    backend.clear_session()
    backend.set_device(None)
    torch.manual_seed(0)
    np.random.seed(0)
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
