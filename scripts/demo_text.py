"""The text demo: a Keras 2 topic classifier (Tokenizer -> pad_sequences -> Embedding -> Bidirectional(LSTM) ->
Dense), imports changed to kerasish, on real English text that ships with Python itself.

The corpus: the docstrings of the public functions, classes and methods of about 70 standard-library modules,
each labelled with the topic of its module (numbers, text, files, network, concurrency, data formats). They are
written by people, vary in length and wording, and are on every machine that has Python: nothing is
downloaded. The task is to tell from a docstring's words which part of the library it documents.

Writes into ``demo_text_output/``: ``training_metrics.png`` (+ ``.html``, refreshed while training runs),
``history.json``, ``tokenizer.json`` and ``model.h5`` (reloaded once to check its predictions).
"""
import argparse
import importlib
import inspect
import json
import os
import time
import warnings

import numpy as np
import torch

from kerasish import backend as K
from kerasish.callbacks import EarlyStopping, MetricsPlot
from kerasish.layers import LSTM, Bidirectional, Dense, Dropout, Embedding
from kerasish.models import Sequential, load_model
from kerasish.preprocessing.sequence import pad_sequences
from kerasish.preprocessing.text import Tokenizer

# topic -> the standard-library modules whose docstrings it takes
TOPICS = {
    "numbers": ["math", "cmath", "statistics", "decimal", "fractions", "random", "numbers", "operator"],
    "text": ["string", "re", "textwrap", "difflib", "unicodedata", "codecs", "locale", "gettext", "html",
             "html.parser"],
    "files": ["os", "os.path", "shutil", "pathlib", "glob", "tempfile", "io", "zipfile", "tarfile", "gzip",
              "filecmp", "fnmatch", "stat"],
    "network": ["socket", "ssl", "http.client", "http.server", "urllib.request", "urllib.parse", "email.message",
                "smtplib", "ftplib", "ipaddress", "poplib", "imaplib", "xmlrpc.client", "http.cookiejar"],
    "concurrency": ["threading", "multiprocessing", "asyncio", "concurrent.futures", "queue", "subprocess", "sched",
                    "signal", "selectors", "multiprocessing.pool", "asyncio.tasks", "asyncio.streams"],
    "data formats": ["json", "csv", "pickle", "sqlite3", "xml.etree.ElementTree", "configparser", "plistlib",
                     "shelve", "struct", "base64", "hashlib", "zlib", "collections", "dataclasses", "datetime",
                     "calendar", "time"],
}


def module_docstrings(module_name: str) -> list[str]:
    """The docstrings of a module's public functions and classes, and of those classes' public methods."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a few modules warn of deprecation on import
        module = importlib.import_module(module_name)
    top = module_name.split(".")[0]
    docs = []
    for name, obj in sorted(vars(module).items()):
        defined_elsewhere = not str(getattr(obj, "__module__", "") or "").startswith(top)
        if name.startswith("_") or not (inspect.isroutine(obj) or inspect.isclass(obj)) \
                or (defined_elsewhere and not inspect.isbuiltin(obj)):
            continue
        docs.append(inspect.getdoc(obj))
        if inspect.isclass(obj):
            docs += [inspect.getdoc(member) for attr, member in sorted(vars(obj).items())
                     if not attr.startswith("_") and callable(member)]
    return [doc for doc in docs if doc]


def load_corpus():
    """``(texts, labels)``: each docstring once (a docstring shared by two modules goes to the first)."""
    texts, labels, seen = [], [], set()
    for label, modules in enumerate(TOPICS.values()):
        for module_name in modules:
            for doc in module_docstrings(module_name):
                if doc not in seen:
                    seen.add(doc)
                    texts.append(doc)
                    labels.append(label)
    return texts, np.array(labels)


def split(texts, labels, seed, test_fraction=0.25):
    order = np.random.RandomState(seed).permutation(len(texts))
    cut = int(len(texts) * (1 - test_fraction))
    pick = lambda idx: ([texts[i] for i in idx], labels[idx])  # noqa: E731
    return pick(order[:cut]), pick(order[cut:])


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="demo_text_output")
    opts = parser.parse_args()
    torch.manual_seed(opts.seed)
    np.random.seed(opts.seed)
    os.makedirs(opts.out, exist_ok=True)

    texts, labels = load_corpus()
    (train_texts, y_train), (test_texts, y_test) = split(texts, labels, opts.seed)
    counts = np.bincount(labels, minlength=len(TOPICS))
    print(f"corpus: {len(texts)} standard-library docstrings in {len(TOPICS)} topics "
          f"({', '.join(f'{name} {n}' for name, n in zip(TOPICS, counts))}); {len(train_texts)} to train, "
          f"{len(test_texts)} to test; chance (the largest topic) {counts.max() / counts.sum():.3f}; "
          f"device: {K.get_device()}")

    # ---- the Keras 2 script ------------------------------------------------------------------------
    max_words, max_len = 8000, 60
    tokenizer = Tokenizer(num_words=max_words, oov_token="<unk>")
    tokenizer.fit_on_texts(train_texts)
    x_train = pad_sequences(tokenizer.texts_to_sequences(train_texts), maxlen=max_len)
    x_test = pad_sequences(tokenizer.texts_to_sequences(test_texts), maxlen=max_len)

    model = Sequential([
        Embedding(max_words, 64, input_length=max_len, mask_zero=True),
        Bidirectional(LSTM(48)),
        Dropout(0.3),
        Dense(len(TOPICS), activation="softmax"),
    ])
    model.summary()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    plot = MetricsPlot(os.path.join(opts.out, "training_metrics.png"))
    stop = EarlyStopping(monitor="val_loss", patience=3, restore_best_weights=True)
    start = time.time()
    history = model.fit(x_train, y_train, batch_size=32, epochs=opts.epochs, validation_split=0.1,
                        callbacks=[plot, stop])
    loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
    # ---------------------------------------------------------------------------------------------------

    chance = counts.max() / counts.sum()
    print(f"\nTest loss {loss:.4f}, test accuracy {accuracy:.4f} (chance {chance:.3f}; trained in "
          f"{time.time() - start:.1f}s)")
    model_path = os.path.join(opts.out, "model.h5")
    model.save(model_path)
    reloaded = load_model(model_path)
    same = np.allclose(reloaded.predict(x_test), model.predict(x_test), atol=1e-6)
    with open(os.path.join(opts.out, "tokenizer.json"), "w") as f:
        f.write(tokenizer.to_json())
    with open(os.path.join(opts.out, "history.json"), "w") as f:
        json.dump({"history": history.history, "test_loss": loss, "test_accuracy": accuracy, "chance": chance},
                  f, indent=1)
    print(f"Wrote {opts.out}/: training_metrics.png (+ .html), history.json, tokenizer.json, model.h5 "
          f"(reloaded: predictions {'identical' if same else 'DIFFERENT'})")
    if accuracy < 2 * chance:
        raise SystemExit(f"test accuracy {accuracy:.4f} is not clearly above chance ({chance:.3f})")


if __name__ == "__main__":
    main()
