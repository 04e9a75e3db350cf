"""``model.summary()`` in Keras 2.3.1's table format (``keras/utils/layer_utils.py`` ``print_summary``)."""
from __future__ import annotations


def print_summary(model, line_length=None, positions=None, print_fn=None) -> None:
    print_fn = print_fn or print
    line_length = line_length or 65
    positions = positions or [0.45, 0.85, 1.0]
    if positions[-1] <= 1:
        positions = [int(line_length * p) for p in positions]

    def print_row(fields):
        line = ""
        for i, field in enumerate(fields):
            if i > 0:
                line = line[:-1] + " "  # Keras overwrites the last character of a full column with a space
            line += str(field)
            line = line[:positions[i]]
            line += " " * (positions[i] - len(line))
        print_fn(line)

    print_fn(f'Model: "{model.name}"')
    print_fn("_" * line_length)
    print_row(["Layer (type)", "Output Shape", "Param #"])
    print_fn("=" * line_length)
    layers = model.layers
    for i, layer in enumerate(layers):
        print_row([f"{layer.name} ({type(layer).__name__})", layer.output_shape, layer.count_params()])
        print_fn("=" * line_length if i == len(layers) - 1 else "_" * line_length)
    trainable = sum(t.numel() for t in model.trainable_weights)
    total = sum(t.numel() for t in model.weights)
    print_fn(f"Total params: {total:,}")
    print_fn(f"Trainable params: {trainable:,}")
    print_fn(f"Non-trainable params: {total - trainable:,}")
    print_fn("_" * line_length)
