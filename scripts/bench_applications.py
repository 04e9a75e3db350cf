"""keras.applications models against the same torchvision models run by hand-written loops (issue 14).

* inference: images/s of ``model.predict`` for ``MobileNetV2`` and ``ResNet50`` (``weights=None``, with their
  1000-class tops) against ``torchvision.models.mobilenet_v2`` / ``resnet50`` (``weights=None``) in ``eval()``
  under ``torch.no_grad()``, batch by batch, the outputs gathered on the host as ``predict`` returns them. The
  torchvision side runs in its fastest layout: model and images in ``torch.channels_last`` memory format
  (torch's fastest convolution layout on CPUs and GPUs);
* transfer training: images/s of ``fit`` for a frozen ``MobileNetV2`` base (``include_top=False,
  pooling='avg'``) with a new ``Dense`` softmax head, Adam, against torchvision's ``mobilenet_v2`` features
  (``requires_grad=False``) + global average pooling + ``nn.Linear``, trained by bench_fit's hand-written loop
  with torch's fastest Adam, in channels_last too (each gathered batch made channels_last, as a hand-written
  loop would). The torch base runs in ``train()`` mode: batch statistics, as Keras 2.3.1's
  frozen BatchNormalization uses (see kerasish/layers/normalization.py), so both sides do the same arithmetic.

The hand-written side gets its images laid out for torch (NCHW with channels_last strides) once, on
the device; kerasish gets Keras's NumPy ``(n, h, w, 3)`` arrays, as Keras users pass them, and runs as Keras users
call it. Target: ratio >= 0.90.

    python scripts/bench_applications.py                    # 224x224, batch 32
    python scripts/bench_applications.py --size 32 --images 8 --repeats 1   # a quick check that it runs

``scripts/bench.py --only applications`` runs the same rows; there the environment variables
``KERASISH_BENCH_APPLICATIONS_SIZE`` and ``KERASISH_BENCH_APPLICATIONS_IMAGES`` shrink them for a quick check.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
from pathlib import Path

import numpy as np
import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_fit import fastest_torch_optimizer, handwritten_epoch, optimizer_path, run_interleaved  # noqa: E402

from kerasish import backend, layers  # noqa: E402
from kerasish.applications import MobileNetV2, ResNet50  # noqa: E402
from kerasish.models import Model  # noqa: E402
from kerasish.optimizers import Adam  # noqa: E402

BATCH_SIZE = 32
TRANSFER_CLASSES = 10
LEARNING_RATE = 1e-3


def images(n: int, size: int, seed: int = 0):
    rng = np.random.RandomState(seed)
    return rng.uniform(-1, 1, (n, size, size, 3)).astype("float32"), rng.randint(0, TRANSFER_CLASSES, n)


def torch_images(x_np: np.ndarray, memory_format=torch.contiguous_format) -> torch.Tensor:
    """NCHW once, on the device: what a hand-written torch loop starts from."""
    return torch.from_numpy(x_np).permute(0, 3, 1, 2).contiguous(memory_format=memory_format).to(
        backend.get_device())


# ---------------------------------------------------------------------------- inference
def handwritten_predict(net: nn.Module, x: torch.Tensor, batch_size: int) -> np.ndarray:
    net.eval()
    with torch.no_grad():
        outputs = [net(x[start:start + batch_size]) for start in range(0, len(x), batch_size)]
    return torch.cat(outputs).cpu().numpy()


def compare_inference(name: str, size: int, n: int, repeats: int) -> dict:
    import torchvision
    x_np, _ = images(n, size)
    kerasish_model = {"MobileNetV2": MobileNetV2, "ResNet50": ResNet50}[name](
        weights=None, input_shape=(size, size, 3))
    net = {"MobileNetV2": torchvision.models.mobilenet_v2, "ResNet50": torchvision.models.resnet50}[name](
        weights=None).to(backend.get_device(), memory_format=torch.channels_last)
    x = torch_images(x_np, torch.channels_last)
    times = run_interleaved({
        "hand-written": lambda r: handwritten_predict(net, x, BATCH_SIZE),
        "kerasish": lambda r: kerasish_model.predict(x_np, batch_size=BATCH_SIZE),
    }, repeats)
    rates = {side: n / statistics.median(t) for side, t in times.items()}
    return {"group": "applications", "benchmark": f"predict {name} {size}x{size}, batch {BATCH_SIZE}",
            "unit": "images/s", "kerasish": rates["kerasish"], "baseline": rates["hand-written"],
            "baseline_name": f"torchvision {name.lower()} (weights=None), channels_last, eval() under no_grad",
            "ratio": rates["kerasish"] / rates["hand-written"]}


# ---------------------------------------------------------------------------- transfer training
def kerasish_transfer_model(size: int) -> Model:
    base = MobileNetV2(weights=None, include_top=False, input_shape=(size, size, 3), pooling="avg")
    base.trainable = False
    inputs = layers.Input((size, size, 3))
    model = Model(inputs, layers.Dense(TRANSFER_CLASSES, activation="softmax")(base(inputs)))
    model.compile(optimizer=Adam(lr=LEARNING_RATE), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


class TorchTransferNet(nn.Module):
    """torchvision MobileNetV2 features, frozen, + global average pooling + a new linear head."""

    def __init__(self):
        super().__init__()
        import torchvision
        self.base = torchvision.models.mobilenet_v2(weights=None).features
        self.base.requires_grad_(False)
        self.head = nn.Linear(1280, TRANSFER_CLASSES)

    def forward(self, x):
        # torch's fastest convolution layout (as the inference rows and kerasish use); a gathered batch is NCHW
        x = x.contiguous(memory_format=torch.channels_last)
        return self.head(self.base(x).mean(dim=(2, 3)))


def compare_transfer_training(size: int, n: int, repeats: int) -> dict:
    x_np, y_np = images(n, size)
    model = kerasish_transfer_model(size)
    net = TorchTransferNet().to(backend.get_device(), memory_format=torch.channels_last)
    optimizer = fastest_torch_optimizer(torch.optim.Adam, net.head.parameters(), lr=LEARNING_RATE)
    x, y = torch_images(x_np), torch.from_numpy(y_np).to(backend.get_device())
    times = run_interleaved({
        "hand-written": lambda r: handwritten_epoch(net, optimizer, x, y, BATCH_SIZE, r),
        "kerasish": lambda r: model.fit(x_np, y_np, batch_size=BATCH_SIZE, epochs=1, verbose=0),
    }, repeats)
    rates = {side: n / statistics.median(t) for side, t in times.items()}
    return {"group": "applications",
            "benchmark": f"fit frozen MobileNetV2 + Dense head {size}x{size}, batch {BATCH_SIZE}",
            "unit": "images/s", "kerasish": rates["kerasish"], "baseline": rates["hand-written"],
            "baseline_name": f"torchvision mobilenet_v2 features frozen + nn.Linear, hand-written loop, "
                             f"Adam {optimizer_path(optimizer)}",
            "ratio": rates["kerasish"] / rates["hand-written"]}


def applications_rows(repeats: int, size: int | None = None, n: int | None = None) -> list[dict]:
    """The three rows; ``size``/``n`` default to 224 and 256 images, or to the environment variables above."""
    size = size or int(os.environ.get("KERASISH_BENCH_APPLICATIONS_SIZE", 224))
    n = n or int(os.environ.get("KERASISH_BENCH_APPLICATIONS_IMAGES", 256))
    return [compare_inference("MobileNetV2", size, n, repeats), compare_inference("ResNet50", size, n, repeats),
            compare_transfer_training(size, n, repeats)]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=224, help="image height and width (at least 32)")
    parser.add_argument("--images", type=int, default=256, help="images per measured pass")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--json", help="also write the rows to this file")
    args = parser.parse_args()
    torch.manual_seed(0)
    rows = applications_rows(args.repeats, args.size, args.images)
    for row in rows:
        print(f"{row['benchmark']:<58} {row['kerasish']:>10,.1f} vs {row['baseline']:>10,.1f} "
              f"({row['baseline_name']})  ratio {row['ratio']:.3f}")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
