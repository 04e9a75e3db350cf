"""``python -m kerasish train.py [args]``: run an unmodified Keras 2 script on kerasish.

The script runs as if started with ``python train.py [args]``: ``__name__ == '__main__'``, ``sys.argv`` is
``['train.py', args...]``, ``sys.path[0]`` is the script's folder, and ``import keras`` / ``from keras.X import Y``
give kerasish's modules (kerasish/keras_alias.py). ``python -m kerasish -m package.module [args]`` does the same
for a module, as ``python -m package.module`` would (``sys.path[0]`` stays the current folder).

Exit status as with Python: the script's ``sys.exit(code)`` exits with that code; an uncaught exception prints
its traceback through ``sys.excepthook`` from the script's own frames (the frames of this launcher and of
runpy are left out) and exits with status 1 (130 for ``KeyboardInterrupt``).
"""
from __future__ import annotations

import os
import runpy
import sys

USAGE = """usage: python -m kerasish script.py [args ...]
       python -m kerasish -m module [args ...]

Runs a Keras 2 script unchanged on kerasish: `import keras` (and every `keras.X` module path kerasish has)
resolves to kerasish's modules in that process."""


def run_script(script: str, args: list[str]) -> None:
    sys.argv = [script, *args]
    # `python script.py` puts the script's folder first on sys.path, where `-m kerasish` put the current folder
    sys.path[0] = os.path.dirname(os.path.realpath(script))
    runpy.run_path(os.path.abspath(script), run_name="__main__")


def run_module(module: str, args: list[str]) -> None:
    sys.argv = [module, *args]  # runpy replaces argv[0] with the module's file, as `python -m` does
    runpy.run_module(module, run_name="__main__", alter_sys=True)


def user_traceback(tb, script_file: str | None):
    """The traceback from the first frame of the user's code on: the script's module frame, or for ``-m`` the
    first frame outside this launcher and runpy. ``None`` when the error came before any user code ran (a
    ``SyntaxError`` while compiling the script: Python prints no frames for it either)."""
    launcher_files = {os.path.abspath(__file__), os.path.abspath(runpy.__file__)}
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if script_file is not None:
            if filename == script_file:
                return tb
        elif not filename.startswith("<frozen importlib") and os.path.abspath(filename) not in launcher_files:
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
    script_file = None if as_module else os.path.abspath(argv[0])
    if script_file is not None and not os.path.isfile(script_file):
        print(f"python -m kerasish: can't open file {script_file!r}: no such file.", file=sys.stderr)
        return 2
    try:
        if as_module:
            run_module(argv[1], argv[2:])
        else:
            run_script(argv[0], argv[1:])
    except SystemExit:
        raise
    except BaseException as err:  # noqa: B036 -- printed and turned into Python's exit status below
        sys.excepthook(type(err), err, user_traceback(err.__traceback__, script_file))
        return 130 if isinstance(err, KeyboardInterrupt) else 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
