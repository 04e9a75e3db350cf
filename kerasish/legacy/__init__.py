"""Keras 2.3.1's ``keras.legacy`` module paths: ``keras.legacy.layers`` (the Keras 1 layers, implemented in
kerasish/layers/legacy.py and re-exported here) and ``keras.legacy.interfaces`` (the Keras 1 argument conversions
as decorators, implemented in kerasish/layers/legacy_arguments.py)."""
