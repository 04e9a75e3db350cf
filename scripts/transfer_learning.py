"""Transfer learning as Keras 2 users write it, imports changed to kerasish, on images that ship with
scikit-learn (its handwritten digits; nothing is downloaded).

1. A source task stands in for ImageNet: a small ``MobileNetV2(weights=None, alpha=0.35)`` learns the digits
   0-4 from arrays, and its base (no top) is saved as a Keras ``.h5`` weights file.
2. The target task is the digits 5-9, written as PNG files into ``train/<class>/`` and ``validation/<class>/``
   folders, the layout ``flow_from_directory`` reads.
3. Transfer: ``MobileNetV2(weights=<that file>, include_top=False)``, frozen; a new head (global average
   pooling, Dense, Dropout, Dense softmax) trained with ``fit_generator`` on
   ``ImageDataGenerator(...).flow_from_directory(...)`` with augmentation.
4. Fine-tuning: the top block (``block_16_*``, ``Conv_1``) unfrozen, recompiled with a 10x lower learning rate,
   trained a few more epochs.

The frozen base follows Keras 2.3.1: its BatchNormalization layers normalise each training batch with the
batch's own statistics and keep their moving statistics (from the source task), which inference uses. The
same head on a base that learned nothing (random weights) is trained too, for comparison.

Writes into ``transfer_learning_output/``: ``images/`` (the folders), ``mobilenet_v2_digits_0-4_no_top.h5``,
``history.json``. About 40 s on 2 CPU cores (validation accuracy ~0.46 against 0.20 for the random base).
"""
import argparse
import json
import os
import time

import numpy as np
import torch
from PIL import Image
from sklearn.datasets import load_digits

from kerasish import backend as K
from kerasish.applications.mobilenet_v2 import MobileNetV2, preprocess_input
from kerasish.layers import BatchNormalization, Dense, Dropout, GlobalAveragePooling2D, Input
from kerasish.models import Model
from kerasish.optimizers import SGD, Adam
from kerasish.preprocessing.image import ImageDataGenerator

SOURCE_DIGITS = [0, 1, 2, 3, 4]
TARGET_DIGITS = [5, 6, 7, 8, 9]
TOP_BLOCK = ("block_16_", "Conv_1")  # MobileNetV2's last inverted residual block and its 1x1 convolution
HEAD_LEARNING_RATE = 3e-3
FINE_TUNE_LEARNING_RATE = 1e-3


def digit_images(digits, size: int, per_class: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The digits' 8x8 images (0-16) as uint8 RGB images of ``size`` x ``size``, and their labels."""
    data = load_digits()
    keep = np.isin(data.target, digits)
    images, labels = data.images[keep], data.target[keep]
    if per_class is not None:
        chosen = np.concatenate([np.flatnonzero(labels == d)[:per_class] for d in digits])
        images, labels = images[chosen], labels[chosen]
    gray = (images * (255.0 / 16.0)).astype(np.uint8)
    upscaled = np.stack([np.asarray(Image.fromarray(g).resize((size, size), Image.BILINEAR)) for g in gray])
    return np.repeat(upscaled[..., None], 3, axis=-1), labels


def write_image_folder(root: str, images: np.ndarray, labels: np.ndarray, seed: int,
                       validation_fraction: float = 0.25) -> tuple[str, str]:
    """``root/train/digit_<d>/<i>.png`` and ``root/validation/...``: a shuffled split, stratified by class."""
    rng = np.random.RandomState(seed)
    for label in np.unique(labels):
        indices = rng.permutation(np.flatnonzero(labels == label))
        n_validation = int(round(len(indices) * validation_fraction))
        for subset, chosen in (("validation", indices[:n_validation]), ("train", indices[n_validation:])):
            folder = os.path.join(root, subset, f"digit_{label}")
            os.makedirs(folder, exist_ok=True)
            for i in chosen:
                Image.fromarray(images[i]).save(os.path.join(folder, f"{i:04d}.png"))
    return os.path.join(root, "train"), os.path.join(root, "validation")


def pretrain_base(size: int, epochs: int, per_class: int | None, path: str) -> None:
    """The source task: MobileNetV2 on the digits 0-4 from arrays (``epochs=0``: a base that learned nothing);
    its base's weights saved to ``path``."""
    x, y = digit_images(SOURCE_DIGITS, size, per_class)
    x = preprocess_input(x.astype("float32"))
    base = MobileNetV2(weights=None, include_top=False, input_shape=(size, size, 3), alpha=0.35, pooling="avg")
    model = Model(base.input, Dense(len(SOURCE_DIGITS), activation="softmax")(base.output))
    model.compile(optimizer=Adam(lr=2e-3), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    if epochs:
        history = model.fit(x, y - SOURCE_DIGITS[0], batch_size=32, epochs=epochs, verbose=0)
        print(f"source task (digits 0-4, {len(x)} images): training accuracy {history.history['accuracy'][-1]:.3f}")
    estimate_batchnorm_statistics(base, x)
    base.save_weights(path)


def estimate_batchnorm_statistics(base: Model, x: np.ndarray) -> None:
    """MobileNetV2's BatchNormalization moving averages move 0.1 % a step (momentum 0.999): ImageNet training
    runs long enough for them to settle, a short pretraining leaves them near their initial values. One pass
    over the whole source set in training mode with momentum 0 sets them to its statistics instead."""
    batchnorms = [layer for layer in base.layers if isinstance(layer, BatchNormalization)]
    for layer in batchnorms:
        layer.momentum = 0.0
    with torch.no_grad():
        base(torch.from_numpy(x), training=True)
    for layer in batchnorms:
        layer.momentum = 0.999


def transfer_model(weights, size: int) -> tuple[Model, Model]:
    """A frozen MobileNetV2 base (``weights``: None or a weights file) and a new head on it."""
    base = MobileNetV2(weights=weights, include_top=False, input_shape=(size, size, 3), alpha=0.35)
    base.trainable = False
    inputs = Input((size, size, 3))
    x = GlobalAveragePooling2D()(base(inputs))
    x = Dropout(0.2)(Dense(64, activation="relu")(x))
    return base, Model(inputs, Dense(len(TARGET_DIGITS), activation="softmax")(x))


def unfreeze_top_block(base: Model) -> None:
    base.trainable = True
    for layer in base.layers:
        layer.trainable = layer.name.startswith(TOP_BLOCK)


def directory_flows(train_dir: str, validation_dir: str, size: int, batch_size: int, seed: int):
    augmenting = ImageDataGenerator(preprocessing_function=preprocess_input, rotation_range=10, zoom_range=0.1,
                                    width_shift_range=0.1, height_shift_range=0.1)
    plain = ImageDataGenerator(preprocessing_function=preprocess_input)
    train = augmenting.flow_from_directory(train_dir, target_size=(size, size), batch_size=batch_size,
                                           class_mode="categorical", seed=seed)
    validation = plain.flow_from_directory(validation_dir, target_size=(size, size), batch_size=batch_size,
                                           class_mode="categorical", shuffle=False)
    return train, validation


def train_and_fine_tune(weights, flows, epochs: int, fine_tune_epochs: int) -> dict:
    """Head on the frozen base, then the top block fine-tuned; the validation accuracy after each stage."""
    train, validation = flows
    base, model = transfer_model(weights, train.target_size[0])
    model.compile(optimizer=Adam(lr=HEAD_LEARNING_RATE), loss="categorical_crossentropy", metrics=["accuracy"])
    head = model.fit_generator(train, epochs=epochs, validation_data=validation, verbose=0)
    result = {"head": head.history}
    if fine_tune_epochs:
        unfreeze_top_block(base)
        # a lower learning rate, so the pretrained weights move little (the Keras 2 applications docs' recipe)
        model.compile(optimizer=SGD(lr=FINE_TUNE_LEARNING_RATE, momentum=0.9), loss="categorical_crossentropy",
                      metrics=["accuracy"])
        tuned = model.fit_generator(train, epochs=fine_tune_epochs, validation_data=validation, verbose=0)
        result["fine_tune"] = tuned.history
    result["val_accuracy"] = float(model.evaluate_generator(validation)[1])
    return result


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=48, help="image height and width (MobileNetV2: at least 32)")
    parser.add_argument("--pretrain-epochs", type=int, default=6)
    parser.add_argument("--epochs", type=int, default=6, help="epochs of the head on the frozen base")
    parser.add_argument("--fine-tune-epochs", type=int, default=3)
    parser.add_argument("--per-class", type=int, default=None, help="images per digit (default: all, ~180)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="transfer_learning_output")
    args = parser.parse_args(argv)
    torch.manual_seed(args.seed)
    os.makedirs(args.out, exist_ok=True)
    start = time.time()
    print(f"device: {K.get_device()}")

    weights_path = os.path.join(args.out, "mobilenet_v2_digits_0-4_no_top.h5")
    pretrain_base(args.size, args.pretrain_epochs, args.per_class, weights_path)
    random_path = os.path.join(args.out, "mobilenet_v2_random_no_top.h5")
    pretrain_base(args.size, 0, args.per_class, random_path)
    images, labels = digit_images(TARGET_DIGITS, args.size, args.per_class)
    train_dir, validation_dir = write_image_folder(os.path.join(args.out, "images"), images, labels, args.seed)
    flows = directory_flows(train_dir, validation_dir, args.size, args.batch_size, args.seed)

    results = {}
    for name, weights in (("pretrained base", weights_path), ("random base", random_path)):
        torch.manual_seed(args.seed)
        results[name] = train_and_fine_tune(weights, flows, args.epochs, args.fine_tune_epochs)
        stages = results[name]
        line = f"{name}: head on the frozen base, val accuracy {stages['head']['val_accuracy'][-1]:.3f}"
        if "fine_tune" in stages:
            line += f"; after fine-tuning the top block {stages['fine_tune']['val_accuracy'][-1]:.3f}"
        print(line)
    print(f"chance: {1 / len(TARGET_DIGITS):.3f}; {time.time() - start:.0f} s")
    with open(os.path.join(args.out, "history.json"), "w") as f:
        json.dump(results, f, indent=1)
    return results


if __name__ == "__main__":
    main()
