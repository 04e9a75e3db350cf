"""Keras 2.3.1 ``keras.objectives``: Keras 1's name of ``keras.losses``, kept for old imports
(``from keras.objectives import categorical_crossentropy``). Every name is ``kerasish.losses``'s own object."""
from kerasish import losses


def __getattr__(name):
    try:
        return getattr(losses, name)
    except AttributeError:
        raise AttributeError(f"module 'kerasish.objectives' (Keras's old name of kerasish.losses) has no attribute "
                             f"{name!r}") from None


def __dir__():
    return sorted(set(globals()) | {name for name in dir(losses) if not name.startswith("_")})
