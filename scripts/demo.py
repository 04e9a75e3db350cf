"""The main job: a Keras 2 CNN script, imports changed to kerasish, on scikit-learn's 8x8 handwritten digits.

It trains with augmentation through ``fit_generator(ImageDataGenerator(...).flow(...))`` and writes into
``demo_output/``: ``augmented_samples.png`` (a grid of augmented training images), ``training_metrics.png`` and
``training_metrics.html`` (loss and accuracy per epoch, refreshed while training runs), ``history.json``, and
``model.h5`` (the trained model as a Keras 2 HDF5 file, reloaded once to check its predictions).
"""
import argparse
import json
import os
import time

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from torchvision.utils import save_image

from kerasish import backend as K
from kerasish.callbacks import MetricsPlot
from kerasish.layers import Conv2D, Dense, Dropout, Flatten, MaxPooling2D
from kerasish.models import Sequential, load_model
from kerasish.preprocessing.image import ImageDataGenerator
from kerasish.utils import to_categorical


def load_data(seed):
    digits = load_digits()
    x = (digits.images / 16.0).astype("float32")[..., np.newaxis]  # (1797, 8, 8, 1), channels_last
    y = digits.target
    return train_test_split(x, y, test_size=0.25, random_state=seed, stratify=y)


def save_augmentation_grid(flow, path, rows=4):
    """One batch of augmented images as a grid, each 8x8 digit drawn at 32x32 so a person can see it."""
    images, _ = flow[0]
    batch = torch.from_numpy(images[: rows * 8]).permute(0, 3, 1, 2)  # NHWC -> NCHW for torchvision
    batch = F.interpolate(batch, scale_factor=4, mode="nearest").clamp(0, 1)
    save_image(batch, path, nrow=8, padding=2, pad_value=0.5)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="demo_output")
    opts = parser.parse_args()
    torch.manual_seed(opts.seed)
    os.makedirs(opts.out, exist_ok=True)

    x_train, x_test, y_train, y_test = load_data(opts.seed)
    print(f"digits: {len(x_train)} training and {len(x_test)} test images of shape {x_train.shape[1:]}; "
          f"device: {K.get_device()}")

    # ---- the Keras 2 script ------------------------------------------------------------------------
    model = Sequential([
        Conv2D(32, (3, 3), activation="relu", padding="same", input_shape=(8, 8, 1)),
        Conv2D(32, (3, 3), activation="relu"),
        MaxPooling2D(),
        Flatten(),
        Dense(128, activation="relu"),
        Dropout(0.5),
        Dense(10, activation="softmax"),
    ])
    model.summary()
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    aug = ImageDataGenerator(rotation_range=10, zoom_range=0.1, width_shift_range=0.1, height_shift_range=0.1,
                             fill_mode="constant", cval=0.0)
    flow = aug.flow(x_train, to_categorical(y_train, 10), batch_size=32, seed=opts.seed)
    save_augmentation_grid(flow, os.path.join(opts.out, "augmented_samples.png"))
    plot = MetricsPlot(os.path.join(opts.out, "training_metrics.png"))
    start = time.time()
    history = model.fit_generator(flow, steps_per_epoch=len(x_train) // 32, epochs=opts.epochs,
                                  validation_data=(x_test, to_categorical(y_test, 10)), callbacks=[plot])
    loss, accuracy = model.evaluate(x_test, to_categorical(y_test, 10), verbose=0)
    # ---------------------------------------------------------------------------------------------------

    print(f"\nTest loss {loss:.4f}, test accuracy {accuracy:.4f} (trained in {time.time() - start:.1f}s)")
    model_path = os.path.join(opts.out, "model.h5")
    model.save(model_path)
    reloaded = load_model(model_path)
    same = np.allclose(reloaded.predict(x_test), model.predict(x_test), atol=1e-6)
    with open(os.path.join(opts.out, "history.json"), "w") as f:
        json.dump({"history": history.history, "test_loss": loss, "test_accuracy": accuracy}, f, indent=1)
    print(f"Wrote {opts.out}/: augmented_samples.png, training_metrics.png (+ .html), history.json, model.h5 "
          f"(reloaded: predictions {'identical' if same else 'DIFFERENT'})")
    if accuracy < 0.95:
        raise SystemExit(f"test accuracy {accuracy:.4f} is below the demo's 0.95 target")


if __name__ == "__main__":
    main()
