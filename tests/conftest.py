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
