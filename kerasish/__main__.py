"""``python -m kerasish train.py [args]``: run an unmodified Keras 2 script on kerasish.

The script runs as if started with ``python train.py [args]``: ``__name__ == '__main__'``, ``sys.argv`` is
``['train.py', args...]``, ``sys.path[0]`` is the script's folder, and ``import keras`` / ``from keras.X import Y``
give kerasish's modules (kerasish/keras_alias.py). ``python -m kerasish -m package.module [args]`` does the same
for a module, as ``python -m package.module`` would (``sys.path[0]`` stays the current folder).

Exit status as with Python: the script's ``sys.exit(code)`` exits with that code; an uncaught exception prints
its traceback through ``sys.excepthook`` from the script's own frames (the frames of this launcher and of
runpy are left out) and exits with status 1 (130 for ``KeyboardInterrupt``).

The alias lives in this process: a child started with multiprocessing's 'spawn' method re-imports the script
without it, so such a script calls ``kerasish.install_as_keras()`` itself before ``import keras`` ('fork', the
Linux default, and DataLoader workers inherit it).
"""
from __future__ import annotations

import builtins
import importlib.machinery
import io
import os
import runpy
import sys
import types
import zipfile

USAGE = """usage: python -m kerasish script.py [args ...]
       python -m kerasish -m module [args ...]

Runs a Keras 2 script unchanged on kerasish: `import keras` (and every `keras.X` module path kerasish has)
resolves to kerasish's modules in that process."""


def run_script(script: str, args: list[str]) -> None:
    """What ``python script.py args`` does: ``argv[0]`` as given, ``__file__`` and the code's file name absolute
    (Python 3.9+), a fresh ``__main__`` module, and the script's folder first on ``sys.path`` (where ``-m
    kerasish`` put the current folder). A folder or zip archive runs its ``__main__.py`` through runpy, as
    Python does."""
    sys.argv = [script, *args]
    sys.path[0] = os.path.dirname(os.path.realpath(script))
    path = os.path.abspath(script)
    if os.path.isdir(path) or zipfile.is_zipfile(path):
        runpy.run_path(script, run_name="__main__")
        return
    with io.open_code(path) as source:
        code = compile(source.read(), path, "exec")
    main = types.ModuleType("__main__")
    main.__file__ = path
    main.__loader__ = importlib.machinery.SourceFileLoader("__main__", path)
    main.__builtins__ = builtins
    sys.modules["__main__"] = main  # classes the script defines pickle as __main__.X, as when run directly
    exec(code, main.__dict__)


def run_module(module: str, args: list[str]) -> None:
    sys.argv = [module, *args]  # runpy replaces argv[0] with the module's file, as `python -m` does
    runpy.run_module(module, run_name="__main__", alter_sys=True)


def user_traceback(tb):
    """The traceback from the first frame of the user's code on: the frames of this launcher, runpy and
    importlib's machinery are left out, as Python leaves out its own when it runs a script. ``None`` when the
    error came before any user code ran (a ``SyntaxError`` while compiling the script: Python prints no frames
    for it either)."""
    launcher_files = {os.path.abspath(__file__), os.path.abspath(runpy.__file__)}
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        # runpy and importlib are frozen modules in Python 3.11+ ("<frozen runpy>")
        if not filename.startswith("<frozen ") and os.path.abspath(filename) not in launcher_files:
            return tb
        tb = tb.tb_next
    return None


def main(argv: list[str]) -> int:
    if not argv or argv[0] in ("-h", "--help"):
        print(USAGE, file=sys.stdout if argv else sys.stderr)
        return 0 if argv else 2
    if argv[0] == "-m" and len(argv) < 2:
        print("python -m kerasish -m: give the module to run.\n\n" + USAGE, file=sys.stderr)
        return 2
    import kerasish
    kerasish.install_as_keras()
    as_module = argv[0] == "-m"
    if not as_module and not os.path.exists(argv[0]):
        print(f"python -m kerasish: can't open file {os.path.abspath(argv[0])!r}: no such file.", file=sys.stderr)
        return 2
    try:
        if as_module:
            run_module(argv[1], argv[2:])
        else:
            run_script(argv[0], argv[1:])
    except SystemExit:
        raise
    except BaseException as err:  # noqa: B036 -- printed and turned into Python's exit status below
        # the default hook prints the exception's own traceback, so the trimmed one must be attached to it
        err = err.with_traceback(user_traceback(err.__traceback__))
        sys.excepthook(type(err), err, err.__traceback__)
        return 130 if isinstance(err, KeyboardInterrupt) else 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
