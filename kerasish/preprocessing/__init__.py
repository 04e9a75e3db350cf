"""``keras.preprocessing``: data preprocessing (``image``: ImageDataGenerator and image helpers)."""
from kerasish.preprocessing import image

__all__ = ["image"]
