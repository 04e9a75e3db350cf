"""Keras 2.3.1 ``keras.objectives``: Keras 1's name of ``keras.losses``, kept for old imports
(``from keras.objectives import categorical_crossentropy``). Every name is ``kerasish.losses``'s own object."""
from kerasish import losses
from kerasish.keras_alias import attributes_from

__getattr__, __dir__ = attributes_from(losses, __name__, globals())
