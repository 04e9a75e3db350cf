"""Keras 2.3.1's ``keras.legacy`` module paths: ``keras.legacy.layers`` (the Keras 1 layers, implemented in
kerasish/layers/legacy.py and re-exported here)."""
