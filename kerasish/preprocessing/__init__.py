"""``keras.preprocessing``: data preprocessing (``image``: ImageDataGenerator and image helpers; ``text``:
Tokenizer; ``sequence``: pad_sequences, skipgrams, TimeseriesGenerator)."""
from kerasish.preprocessing import image, sequence, text

__all__ = ["image", "sequence", "text"]
