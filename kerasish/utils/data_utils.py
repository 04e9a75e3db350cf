"""``keras.utils.data_utils``: ``get_file`` (download once, cache, verify, extract), ``validate_file``, and the
enqueuers and ``Sequence`` (re-exported from :mod:`kerasish.utils.enqueuers` and :mod:`kerasish.utils.sequence`).

``get_file`` follows Keras 2.3.1 ``keras/utils/data_utils.py``: the cache is ``$KERAS_HOME`` or ``~/.keras``
(``/tmp/.keras`` when that cannot be written), files go to ``<cache>/<cache_subdir>/<fname>``, a cached file is
used as it is unless a given hash does not match, and downloads go through ``urlopen`` with a ``Progbar``.
Where it differs, it is safer and says more:

* offline (or on any fetch failure) the error names the URL and the exact path where to put the file;
* a download is written next to its destination and moved there only when complete, so a failed download
  never leaves half a file, nor deletes the file that was there (Keras writes in place and removes it);
* a downloaded file whose hash does not match is removed and reported (Keras 2.3.1 checks cached files only;
  tf.keras checks downloads too);
* archives are checked before anything is extracted: a member whose path would land outside the target
  folder (``../x``, ``/etc/x``, links pointing out) makes the whole extraction fail (Keras extracts them);
* with ``untar=True`` an already extracted folder is used even when the ``.tar.gz`` was deleted (Keras
  downloads the archive again).
"""
from __future__ import annotations

import hashlib
import os
import tarfile
import zipfile
from urllib.error import HTTPError, URLError
from urllib.request import urlopen

from kerasish.utils.enqueuers import (GeneratorEnqueuer, OrderedEnqueuer, SequenceEnqueuer, get_index, init_pool,
                                      init_pool_generator, next_sample)
from kerasish.utils.progbar import Progbar
from kerasish.utils.sequence import Sequence

__all__ = ["get_file", "validate_file", "urlretrieve", "Sequence", "SequenceEnqueuer", "OrderedEnqueuer",
           "GeneratorEnqueuer", "init_pool", "get_index", "init_pool_generator", "next_sample", "Progbar",
           "urlopen", "URLError", "HTTPError", "DownloadError"]

_HASH_ALGORITHMS = ("auto", "sha256", "md5")
_ARCHIVE_FORMATS = ("tar", "zip")
_BLOCK_SIZE = 8192  # bytes per read and per progress report, as urllib's urlretrieve


class DownloadError(OSError):
    """``get_file`` could not fetch a file that is not in the cache (offline, HTTP error...)."""


def get_file(fname, origin, untar=False, md5_hash=None, file_hash=None, cache_subdir="datasets",
             hash_algorithm="auto", extract=False, archive_format="auto", cache_dir=None):
    """Downloads a file from a URL if it is not already in the cache; returns its path.

    The file ``fname`` goes to ``cache_dir`` (default ``$KERAS_HOME``, else ``~/.keras``) / ``cache_subdir``
    (default ``datasets``); an absolute ``fname`` or ``cache_subdir`` is used as it is.

    Arguments:
        fname: name of the file (or, with ``untar``, of the folder the archive extracts to).
        origin: URL of the file.
        untar: deprecated in favour of ``extract``: the file is ``fname + '.tar.gz'``, extracted next to it;
            the extracted path is returned.
        md5_hash: deprecated in favour of ``file_hash``: the file's md5.
        file_hash: the expected sha256 or md5 of the file; a cached file that does not match is downloaded
            again, and a download that does not match is an error.
        cache_subdir: subfolder of the cache folder.
        hash_algorithm: ``'md5'``, ``'sha256'`` or ``'auto'`` (sha256 for 64-character hashes, else md5).
        extract: extract the file as an archive (tar, tar.gz, tar.bz2 or zip) into its folder.
        archive_format: ``'auto'`` (``['tar', 'zip']``), ``'tar'``, ``'zip'``, a list of those, or None.
        cache_dir: the cache folder.
    """
    if md5_hash is not None and file_hash is None:
        file_hash, hash_algorithm = md5_hash, "md5"
    _check_hash_algorithm(hash_algorithm)
    formats = _archive_formats(archive_format)
    datadir = os.path.join(_writable_cache_dir(cache_dir), cache_subdir)
    os.makedirs(datadir, exist_ok=True)
    untar_fpath = os.path.join(datadir, fname)
    fpath = untar_fpath + ".tar.gz" if untar else untar_fpath

    if untar and os.path.exists(untar_fpath):
        return untar_fpath
    stale = None
    if os.path.exists(fpath) and file_hash is not None and not validate_file(fpath, file_hash, hash_algorithm):
        stale = (f"A local file was found at {fpath}, but it seems to be incomplete or outdated because the "
                 f"{_algorithm_name(file_hash, hash_algorithm)} file hash does not match the original value of "
                 f"{file_hash}")
        print(stale + " so we will re-download the data.")  # Keras 2.3.1 prints this, and downloads again
    if stale is not None or not os.path.exists(fpath):
        _download(origin, fpath, file_hash, hash_algorithm, stale,
                  extracted_path=untar_fpath if untar else None)

    if untar:
        _extract_archive(fpath, datadir, ["tar"])
        return untar_fpath
    if extract:
        _extract_archive(fpath, datadir, formats)
    return fpath


def validate_file(fpath, file_hash, algorithm="auto", chunk_size=65535):
    """Whether the file at ``fpath`` has the sha256 or md5 hash ``file_hash``.

    ``algorithm``: ``'sha256'``, ``'md5'``, or ``'auto'``: sha256 when ``file_hash`` has 64 characters, else md5.
    """
    _check_hash_algorithm(algorithm)
    return str(_hash_file(fpath, _algorithm_name(file_hash, algorithm), chunk_size)) == str(file_hash)


def _hash_file(fpath, algorithm="sha256", chunk_size=65535):
    """The sha256 (default) or md5 hex digest of the file at ``fpath``.

    ``'auto'`` means sha256 here, there being no hash to measure (Keras 2.3.1 fails on it)."""
    hasher = hashlib.md5() if algorithm == "md5" else hashlib.sha256()
    with open(fpath, "rb") as file:
        for chunk in iter(lambda: file.read(chunk_size), b""):
            hasher.update(chunk)
    return hasher.hexdigest()


def _algorithm_name(file_hash, algorithm: str) -> str:
    if algorithm == "auto":
        return "sha256" if len(str(file_hash)) == 64 else "md5"
    return algorithm


def _check_hash_algorithm(algorithm) -> None:
    if algorithm not in _HASH_ALGORITHMS:
        raise ValueError(f"get_file: hash_algorithm must be one of {list(_HASH_ALGORITHMS)}; received "
                         f"{algorithm!r}.")


def _archive_formats(archive_format) -> list[str]:
    if archive_format is None:
        return []
    if archive_format == "auto":
        return list(_ARCHIVE_FORMATS)
    formats = [archive_format] if isinstance(archive_format, str) else list(archive_format)
    unknown = [f for f in formats if f not in _ARCHIVE_FORMATS]
    if unknown:
        raise ValueError(f"get_file: archive_format must be 'auto', 'tar', 'zip', a list of those, or None; "
                         f"received {archive_format!r}.")
    return formats


def _writable_cache_dir(cache_dir) -> str:
    """Keras 2.3.1: ``cache_dir``, else ``$KERAS_HOME``, else ``~/.keras``; ``/tmp/.keras`` when it cannot be
    written. (Keras's backend creates the folder when keras is imported; here it is created when needed.)"""
    if cache_dir is None:
        cache_dir = os.environ.get("KERAS_HOME", os.path.join(os.path.expanduser("~"), ".keras"))
    base = os.path.expanduser(cache_dir)
    try:
        os.makedirs(base, exist_ok=True)
    except OSError:
        pass
    if not os.access(base, os.W_OK):
        base = os.path.join("/tmp", ".keras")
    return base


# ---------------------------------------------------------------------------------------------------------
# Downloading
# ---------------------------------------------------------------------------------------------------------

def urlretrieve(url, filename, reporthook=None, data=None):
    """Copies the resource at ``url`` into ``filename`` through ``urlopen``, as ``urllib``'s ``urlretrieve``:
    ``reporthook(block_count, block_size, total_size)`` is called once before reading (count 0) and after
    each block; ``total_size`` is -1 when the server does not say."""
    with urlopen(url, data) as response, open(filename, "wb") as file:
        length = response.info().get("Content-Length")
        total_size = int(length.strip()) if length is not None else -1
        count = 0
        if reporthook is not None:
            reporthook(count, _BLOCK_SIZE, total_size)
        while True:
            block = response.read(_BLOCK_SIZE)
            if not block:
                break
            file.write(block)
            count += 1
            if reporthook is not None:
                reporthook(count, _BLOCK_SIZE, total_size)


class _DownloadProgress:
    """Keras 2.3.1's ``dl_progress``: a ``Progbar`` of the total size (None when unknown), updated with
    ``count * block_size`` bytes."""

    def __init__(self):
        self.progbar = None

    def __call__(self, count, block_size, total_size):
        if self.progbar is None:
            self.progbar = Progbar(total_size if total_size != -1 else None)
        else:
            self.progbar.update(count * block_size)


def _download(origin, fpath, file_hash, hash_algorithm, stale, extracted_path):
    print("Downloading data from", origin)
    partial = fpath + ".part"
    try:
        try:
            urlretrieve(origin, partial, _DownloadProgress())
        except HTTPError as err:
            raise DownloadError(_fetch_failure(origin, err.code, err.msg, fpath, file_hash, hash_algorithm,
                                               stale, extracted_path)) from err
        except URLError as err:
            raise DownloadError(_fetch_failure(origin, err.errno, err.reason, fpath, file_hash, hash_algorithm,
                                               stale, extracted_path)) from err
        except OSError as err:  # a dropped connection, a timeout, a reset...
            raise DownloadError(_fetch_failure(origin, err.errno, err, fpath, file_hash, hash_algorithm,
                                               stale, extracted_path)) from err
        if file_hash is not None and not validate_file(partial, file_hash, hash_algorithm):
            raise ValueError(f"Incomplete or corrupted file detected: the file downloaded from {origin} does not "
                             f"have the {_algorithm_name(file_hash, hash_algorithm)} file hash {file_hash}; it "
                             "was not kept. Try again, or download it yourself and save it as " + fpath + ".")
    except BaseException:
        if os.path.exists(partial):
            os.remove(partial)
        raise
    os.replace(partial, fpath)


def _fetch_failure(origin, code, reason, fpath, file_hash, hash_algorithm, stale, extracted_path) -> str:
    """Keras 2.3.1's "URL fetch failure on {} : {} -- {}", then what to do without network."""
    lines = [f"URL fetch failure on {origin} : {code} -- {reason}"]
    if stale is not None:
        lines.append(stale + ".")
    where = f"Download {origin} yourself (this machine may be offline) and save it as {fpath}"
    if extracted_path is not None:
        where += f" (or extract it so that {extracted_path} exists)"
    lines.append(where + ".")
    if file_hash is not None:
        lines.append(f"Its {_algorithm_name(file_hash, hash_algorithm)} hash must be {file_hash}.")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------------------
# Extracting
# ---------------------------------------------------------------------------------------------------------

def _extract_archive(file_path, path=".", archive_format="auto"):
    """Extracts the tar (also .tar.gz, .tar.bz2) or zip archive ``file_path`` into ``path``; True when the file
    was one of ``archive_format``'s kinds. Every member is checked first: nothing is extracted from an
    archive with a member that would land outside ``path``."""
    for kind in _archive_formats(archive_format):
        if kind == "tar" and tarfile.is_tarfile(file_path):
            with tarfile.open(file_path) as archive:
                _check_tar_members(archive, file_path, path)
                if hasattr(tarfile, "data_filter"):  # Python >= 3.11.4 (and 3.8.17, 3.9.17, 3.10.12)
                    archive.extractall(path, filter="data")  # the stdlib's own check, a second time
                else:
                    archive.extractall(path)
            return True
        if kind == "zip" and zipfile.is_zipfile(file_path):
            with zipfile.ZipFile(file_path) as archive:
                for name in archive.namelist():
                    _check_inside(name, file_path, path)
                archive.extractall(path)
            return True
    return False


def _check_tar_members(archive: tarfile.TarFile, file_path, path) -> None:
    for member in archive.getmembers():
        _check_inside(member.name, file_path, path)
        if member.issym() or member.islnk():
            link_base = os.path.dirname(member.name) if member.issym() else ""
            _check_inside(os.path.join(link_base, member.linkname), file_path, path,
                          what=f"the link {member.name!r} pointing to")
        elif member.isdev():
            raise ValueError(f"get_file: the archive {file_path} holds the device file {member.name!r}; "
                             "nothing was extracted.")


def _check_inside(name: str, file_path, path, what: str = "the member") -> None:
    target = os.path.realpath(os.path.abspath(path))
    destination = os.path.realpath(os.path.join(target, name))
    if os.path.isabs(name) or os.path.commonpath([target, destination]) != target:
        raise ValueError(f"get_file: the archive {file_path} holds {what} {name!r}, which would land outside "
                         f"{target}; nothing was extracted. Extract it yourself if you trust it.")
