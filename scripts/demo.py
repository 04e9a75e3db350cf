"""The main job: a Keras 2 CNN script, imports changed to kerasish, on scikit-learn's 8x8 digits.

Writes demo_output/history.json (the History of the run) and prints the test accuracy.
"""
import argparse
import json
import os
import time

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import torch

from kerasish import backend as K
from kerasish.layers import Conv2D, Dense, Dropout, Flatten, MaxPooling2D
from kerasish.models import Sequential
from kerasish.utils import to_categorical


def load_data(seed):
    digits = load_digits()
    x = (digits.images / 16.0).astype("float32")[..., np.newaxis]  # (1797, 8, 8, 1), channels_last
    y = digits.target
    return train_test_split(x, y, test_size=0.25, random_state=seed, stratify=y)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
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
    start = time.time()
    history = model.fit(x_train, to_categorical(y_train, 10), batch_size=32, epochs=opts.epochs,
                        validation_split=0.1)
    loss, accuracy = model.evaluate(x_test, to_categorical(y_test, 10), verbose=0)
    # ---------------------------------------------------------------------------------------------------

    print(f"\nTest loss {loss:.4f}, test accuracy {accuracy:.4f} "
          f"(trained in {time.time() - start:.1f}s)")
    with open(os.path.join(opts.out, "history.json"), "w") as f:
        json.dump({"history": history.history, "test_loss": loss, "test_accuracy": accuracy}, f, indent=1)
    print(f"History written to {os.path.join(opts.out, 'history.json')}")


if __name__ == "__main__":
    main()
