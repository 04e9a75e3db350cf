"""``keras.datasets``: Keras 2.3.1's small datasets, read from the files Keras downloads, at the same cache paths.

Each loader fetches its file with ``kerasish.utils.get_file`` (``$KERAS_HOME`` or ``~/.keras``, subfolder
``datasets``), from Keras's URL and with Keras's hash; without network the error says where to put the file. The
pickled files (CIFAR batches, the object arrays of ``imdb.npz``/``reuters.npz``) are read as plain data only
(``kerasish.utils.plain_data``), never by running what a file names.
"""
from kerasish.datasets import boston_housing, cifar10, cifar100, fashion_mnist, imdb, mnist, reuters

__all__ = ["mnist", "imdb", "reuters", "cifar10", "cifar100", "boston_housing", "fashion_mnist"]
