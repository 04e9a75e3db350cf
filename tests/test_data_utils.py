"""keras.utils.data_utils: get_file (cache paths, hashes, downloads through a fake urlopen, the offline error,
safe extraction) and the enqueuers (order, epochs, workers, stopping). Nothing here touches the network: every
test replaces ``data_utils.urlopen``."""
import email.message
import hashlib
import io
import os
import pathlib
import random
import shutil
import tarfile
import threading
import time
import zipfile
from urllib.error import HTTPError, URLError

import numpy as np
import pytest

from kerasish import utils
from kerasish.utils import data_utils, enqueuers
from kerasish.utils.sequence import Sequence

URL = "https://example.org/files/data.bin"
PAYLOAD = bytes(range(256)) * 100  # 25600 bytes: four blocks of 8192 and a partial one


class FakeResponse(io.BytesIO):
    def __init__(self, payload, length=True):
        super().__init__(payload)
        self.headers = email.message.Message()
        if length:
            self.headers["Content-Length"] = str(len(payload))

    def info(self):
        return self.headers


@pytest.fixture
def keras_home(tmp_path, monkeypatch):
    home = tmp_path / "keras_home"
    monkeypatch.setenv("KERAS_HOME", str(home))
    return home


@pytest.fixture
def offline(monkeypatch):
    calls = []

    def refuse(url, data=None):
        calls.append(url)
        raise URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(data_utils, "urlopen", refuse)
    return calls


@pytest.fixture
def serving(monkeypatch):
    """A fake network that serves ``served[url]``; records the URLs asked for."""
    served, calls = {}, []

    def serve(url, data=None):
        calls.append(url)
        return FakeResponse(served[url])

    monkeypatch.setattr(data_utils, "urlopen", serve)
    return served, calls


def md5(data):
    return hashlib.md5(data).hexdigest()


def sha256(data):
    return hashlib.sha256(data).hexdigest()


# ---------------------------------------------------------------------------------------------------------
# Cache paths
# ---------------------------------------------------------------------------------------------------------

def test_get_file_uses_a_cached_file_under_keras_home_datasets_without_network(keras_home, offline):
    (keras_home / "datasets").mkdir(parents=True)
    (keras_home / "datasets" / "data.bin").write_bytes(PAYLOAD)
    path = utils.get_file("data.bin", URL, file_hash=md5(PAYLOAD))
    assert path == str(keras_home / "datasets" / "data.bin")
    assert offline == []


def test_get_file_default_cache_is_dot_keras_in_the_home_folder(tmp_path, monkeypatch, offline):
    monkeypatch.delenv("KERAS_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / ".keras" / "models").mkdir(parents=True)
    (tmp_path / ".keras" / "models" / "w.h5").write_bytes(b"w")
    assert utils.get_file("w.h5", URL, cache_subdir="models") == str(tmp_path / ".keras" / "models" / "w.h5")


def test_get_file_cache_dir_argument_and_absolute_fname(tmp_path, offline):
    (tmp_path / "c" / "datasets").mkdir(parents=True)
    (tmp_path / "c" / "datasets" / "a").write_bytes(b"a")
    assert utils.get_file("a", URL, cache_dir=str(tmp_path / "c")) == str(tmp_path / "c" / "datasets" / "a")
    (tmp_path / "elsewhere").write_bytes(b"b")
    assert utils.get_file(str(tmp_path / "elsewhere"), URL) == str(tmp_path / "elsewhere")


def test_get_file_falls_back_to_tmp_keras_when_the_cache_cannot_be_written(offline):
    subdir = f"kerasish-test-{os.getpid()}"
    fallback = pathlib.Path("/tmp/.keras") / subdir
    try:
        fallback.mkdir(parents=True, exist_ok=True)
        (fallback / "f").write_bytes(b"f")
        # /proc accepts no new folders, even from root
        path = utils.get_file("f", URL, cache_subdir=subdir, cache_dir="/proc/kerasish-no-such-cache")
        assert path == str(fallback / "f")
    finally:
        shutil.rmtree(fallback, ignore_errors=True)


# ---------------------------------------------------------------------------------------------------------
# Downloads and the offline error
# ---------------------------------------------------------------------------------------------------------

def test_get_file_downloads_once_prints_keras_line_and_checks_the_hash(keras_home, serving, capsys):
    served, calls = serving
    served[URL] = PAYLOAD
    path = utils.get_file("data.bin", URL, file_hash=sha256(PAYLOAD))
    assert pathlib.Path(path).read_bytes() == PAYLOAD
    assert calls == [URL]
    out = capsys.readouterr().out
    assert out.startswith("Downloading data from " + URL + "\n")
    # a Progbar of the bytes, updated with count * block_size as Keras 2.3.1 (so it ends past the size)
    assert "32768/25600 [" + "=" * 38 + "]" in out  # int(30 * 32768 / 25600) cells, as K231 draws it
    assert utils.get_file("data.bin", URL, file_hash=sha256(PAYLOAD)) == path
    assert calls == [URL]  # the second call found it in the cache
    assert os.listdir(keras_home / "datasets") == ["data.bin"]  # no partial file left behind


def test_urlretrieve_reports_blocks_as_urllib(monkeypatch, tmp_path):
    monkeypatch.setattr(data_utils, "urlopen", lambda url, data=None: FakeResponse(PAYLOAD))
    reports = []
    data_utils.urlretrieve(URL, str(tmp_path / "x"), lambda *a: reports.append(a))
    # urllib.request.urlretrieve: (0, bs, size) before reading, then one report per block read
    assert reports == [(i, 8192, 25600) for i in range(5)]
    assert (tmp_path / "x").read_bytes() == PAYLOAD
    monkeypatch.setattr(data_utils, "urlopen", lambda url, data=None: FakeResponse(b"abc", length=False))
    reports.clear()
    data_utils.urlretrieve(URL, str(tmp_path / "y"), lambda *a: reports.append(a))
    assert reports == [(0, 8192, -1), (1, 8192, -1)]


def test_offline_error_names_the_url_and_the_exact_path(keras_home, offline):
    with pytest.raises(data_utils.DownloadError) as info:
        utils.get_file("data.bin", URL, file_hash=md5(PAYLOAD))
    message = str(info.value)
    expected_path = str(keras_home / "datasets" / "data.bin")
    assert message.startswith("URL fetch failure on " + URL + " : ")  # Keras 2.3.1's first words
    assert f"Download {URL} yourself" in message and f"save it as {expected_path}." in message
    assert f"Its md5 hash must be {md5(PAYLOAD)}." in message
    assert offline == [URL]
    assert os.listdir(keras_home / "datasets") == []


def test_offline_error_for_untar_also_names_the_extracted_folder(keras_home, offline):
    with pytest.raises(data_utils.DownloadError) as info:
        utils.get_file("cifar-10-batches-py", "https://example.org/cifar-10-python.tar.gz", untar=True)
    folder = keras_home / "datasets" / "cifar-10-batches-py"
    assert f"save it as {folder}.tar.gz (or extract it so that {folder} exists)." in str(info.value)


def test_http_error_is_reported_with_keras_code_and_message(keras_home, monkeypatch):
    def not_found(url, data=None):
        raise HTTPError(url, 404, "Not Found", {}, None)

    monkeypatch.setattr(data_utils, "urlopen", not_found)
    with pytest.raises(data_utils.DownloadError, match=f"URL fetch failure on {URL} : 404 -- Not Found"):
        utils.get_file("data.bin", URL)


def test_a_connection_dropped_midway_leaves_no_partial_file(keras_home, monkeypatch):
    class Dropping(FakeResponse):
        def read(self, size=-1):
            if self.tell() >= 8192:
                raise ConnectionResetError(104, "Connection reset by peer")
            return super().read(size)

    monkeypatch.setattr(data_utils, "urlopen", lambda url, data=None: Dropping(PAYLOAD))
    with pytest.raises(data_utils.DownloadError, match="Connection reset by peer"):
        utils.get_file("data.bin", URL)
    assert os.listdir(keras_home / "datasets") == []


def test_a_cached_file_with_the_wrong_hash_is_downloaded_again(keras_home, serving, capsys):
    served, calls = serving
    served[URL] = PAYLOAD
    (keras_home / "datasets").mkdir(parents=True)
    (keras_home / "datasets" / "data.bin").write_bytes(b"truncated")
    path = utils.get_file("data.bin", URL, md5_hash=md5(PAYLOAD))  # the deprecated spelling: md5
    assert pathlib.Path(path).read_bytes() == PAYLOAD
    assert calls == [URL]
    assert "the md5 file hash does not match the original value of " + md5(PAYLOAD) in capsys.readouterr().out


def test_offline_with_a_wrong_hash_keeps_the_local_file_and_says_so(keras_home, offline):
    (keras_home / "datasets").mkdir(parents=True)
    local = keras_home / "datasets" / "data.bin"
    local.write_bytes(b"old version")
    with pytest.raises(data_utils.DownloadError) as info:
        utils.get_file("data.bin", URL, file_hash=sha256(PAYLOAD))
    assert f"A local file was found at {local}" in str(info.value)
    assert f"the sha256 file hash does not match the original value of {sha256(PAYLOAD)}" in str(info.value)
    assert local.read_bytes() == b"old version"


def test_a_download_with_the_wrong_hash_is_an_error_and_is_not_kept(keras_home, serving):
    served, _ = serving
    served[URL] = b"not what was promised"
    with pytest.raises(ValueError, match="Incomplete or corrupted file detected.*sha256 file hash " + sha256(PAYLOAD)):
        utils.get_file("data.bin", URL, file_hash=sha256(PAYLOAD))
    assert os.listdir(keras_home / "datasets") == []


def test_validate_file_and_hash_file_pick_the_algorithm_by_hash_length(tmp_path):
    f = tmp_path / "f"
    f.write_bytes(PAYLOAD)
    assert data_utils.validate_file(str(f), sha256(PAYLOAD))
    assert data_utils.validate_file(str(f), md5(PAYLOAD))
    assert data_utils.validate_file(str(f), md5(PAYLOAD), algorithm="md5")
    assert not data_utils.validate_file(str(f), md5(PAYLOAD), algorithm="sha256")
    assert not data_utils.validate_file(str(f), md5(b"other"))
    assert data_utils._hash_file(str(f)) == sha256(PAYLOAD)
    assert data_utils._hash_file(str(f), algorithm="md5", chunk_size=7) == md5(PAYLOAD)


def test_get_file_rejects_unknown_hash_algorithm_and_archive_format(keras_home, offline):
    with pytest.raises(ValueError, match="hash_algorithm must be one of"):
        utils.get_file("x", URL, file_hash="00", hash_algorithm="sha1")
    with pytest.raises(ValueError, match="archive_format must be"):
        utils.get_file("x", URL, extract=True, archive_format="rar")
    assert offline == []


# ---------------------------------------------------------------------------------------------------------
# Extraction
# ---------------------------------------------------------------------------------------------------------

def make_tar(path, members, mode="w:gz"):
    """``members``: name -> bytes, or name -> ('symlink', target)."""
    with tarfile.open(path, mode) as archive:
        for name, content in members.items():
            info = tarfile.TarInfo(name)
            if isinstance(content, tuple):
                info.type, info.linkname = tarfile.SYMTYPE, content[1]
                archive.addfile(info)
            else:
                info.size = len(content)
                archive.addfile(info, io.BytesIO(content))


def test_untar_extracts_next_to_the_archive_and_returns_the_folder(keras_home, serving):
    served, calls = serving
    archive = keras_home.parent / "src.tar.gz"
    make_tar(archive, {"pack/a.txt": b"A", "pack/sub/b.txt": b"B"})
    served["https://example.org/pack.tar.gz"] = archive.read_bytes()
    path = utils.get_file("pack", "https://example.org/pack.tar.gz", untar=True)
    assert path == str(keras_home / "datasets" / "pack")
    assert (keras_home / "datasets" / "pack" / "sub" / "b.txt").read_bytes() == b"B"
    assert (keras_home / "datasets" / "pack.tar.gz").exists()
    os.remove(keras_home / "datasets" / "pack.tar.gz")
    assert utils.get_file("pack", "https://example.org/pack.tar.gz", untar=True) == path
    assert len(calls) == 1  # the extracted folder is enough


@pytest.mark.parametrize("kind", ["tar", "zip"])
def test_extract_true_extracts_tar_and_zip_and_returns_the_archive_path(keras_home, offline, kind):
    datadir = keras_home / "datasets"
    datadir.mkdir(parents=True)
    if kind == "tar":
        make_tar(datadir / "a.tar.bz2", {"inside/x.txt": b"X"}, mode="w:bz2")
        name = "a.tar.bz2"
    else:
        with zipfile.ZipFile(datadir / "a.zip", "w") as z:
            z.writestr("inside/x.txt", b"X")
        name = "a.zip"
    assert utils.get_file(name, URL, extract=True) == str(datadir / name)
    assert (datadir / "inside" / "x.txt").read_bytes() == b"X"
    other = "zip" if kind == "tar" else "tar"
    assert data_utils._extract_archive(str(datadir / name), str(datadir / "again"), other) is False


@pytest.mark.parametrize("members", [
    {"ok.txt": b"fine", "../escaped.txt": b"evil"},
    {"ok.txt": b"fine", "/tmp/kerasish-absolute-escape.txt": b"evil"},
    {"ok.txt": b"fine", "link": ("symlink", "../../outside"), "link/escaped.txt": b"evil"},
], ids=["dotdot", "absolute", "symlink"])
def test_extraction_refuses_an_archive_with_members_outside_the_folder(keras_home, offline, members):
    datadir = keras_home / "datasets"
    datadir.mkdir(parents=True)
    make_tar(datadir / "bad.tar.gz", members)
    with pytest.raises(ValueError, match="would land outside"):
        utils.get_file("bad.tar.gz", URL, extract=True)
    assert sorted(os.listdir(datadir)) == ["bad.tar.gz"]  # nothing extracted, not even the harmless member
    assert not (keras_home / "escaped.txt").exists()
    assert not os.path.exists("/tmp/kerasish-absolute-escape.txt")


def test_extraction_refuses_a_zip_member_outside_the_folder(keras_home, offline):
    datadir = keras_home / "datasets"
    datadir.mkdir(parents=True)
    with zipfile.ZipFile(datadir / "bad.zip", "w") as z:
        z.writestr("ok.txt", b"fine")
        z.writestr("../escaped.txt", b"evil")
    with pytest.raises(ValueError, match="would land outside"):
        utils.get_file("bad.zip", URL, extract=True, archive_format="zip")
    assert sorted(os.listdir(datadir)) == ["bad.zip"]


# ---------------------------------------------------------------------------------------------------------
# Enqueuers
# ---------------------------------------------------------------------------------------------------------

class CountingSequence(Sequence):
    """Batch i is ``(i, epoch)``; later batches load faster, so a pool finishes them out of order."""

    def __init__(self, n=6, delay=0.003):
        self.n, self.delay, self.epoch = n, delay, 0

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        time.sleep(self.delay * (self.n - i))
        return np.array([i, self.epoch])

    def on_epoch_end(self):
        self.epoch += 1


def take(enqueuer, count):
    stream = enqueuer.get()
    return [tuple(int(v) for v in next(stream)) for _ in range(count)]


def kerasish_threads():
    return [t for t in threading.enumerate() if t.name.startswith("kerasish-")]


@pytest.mark.parametrize("workers, use_multiprocessing", [(0, False), (3, False), (2, True)])
def test_ordered_enqueuer_yields_every_batch_in_order_pass_after_pass(workers, use_multiprocessing):
    sequence = CountingSequence()
    enqueuer = utils.OrderedEnqueuer(sequence, use_multiprocessing=use_multiprocessing)
    assert not enqueuer.is_running()
    enqueuer.start(workers=workers, max_queue_size=4)
    assert enqueuer.is_running()
    got = take(enqueuer, 15)
    enqueuer.stop()
    # each pass loads after the previous pass's on_epoch_end, so it sees the new epoch (processes too)
    assert got == [(i, 0) for i in range(6)] + [(i, 1) for i in range(6)] + [(i, 2) for i in range(3)]
    assert not enqueuer.is_running()
    assert kerasish_threads() == []


def test_ordered_enqueuer_shuffles_each_pass_with_python_random():
    sequence = CountingSequence(n=8, delay=0)
    enqueuer = utils.OrderedEnqueuer(sequence, shuffle=True)
    random.seed(5)
    expected = []
    for _ in range(2):
        order = list(range(8))
        random.shuffle(order)  # Keras 2.3.1: random.shuffle(sequence) at the start of every pass
        expected.append(order)
    random.seed(5)
    enqueuer.start(workers=2, max_queue_size=1)
    got = take(enqueuer, 16)
    enqueuer.stop()
    assert [i for i, _ in got] == expected[0] + expected[1]
    assert [e for _, e in got] == [0] * 8 + [1] * 8


def test_stop_ends_get_and_every_worker_thread_and_sets_keras_end_of_epoch_signal():
    sequence = CountingSequence(n=3, delay=0)
    enqueuer = utils.OrderedEnqueuer(sequence)
    enqueuer.start(workers=2, max_queue_size=2)
    stream = enqueuer.get()
    assert [int(next(stream)[0]) for _ in range(4)] == [0, 1, 2, 0]
    enqueuer.join_end_of_epoch()  # the first pass has ended
    assert sequence.epoch >= 1
    assert enqueuer_uid_batch(enqueuer) == 1
    enqueuer.stop(timeout=5)
    assert list(stream) == []
    assert kerasish_threads() == []
    assert enqueuers._SHARED_SEQUENCES[enqueuer.uid] is None
    enqueuer.start(workers=1)  # it can start again
    assert int(next(enqueuer.get())[0]) == 0
    enqueuer.stop()


def enqueuer_uid_batch(enqueuer):
    # Keras's module-level helpers read the registered sequence by uid
    return int(data_utils.get_index(enqueuer.uid, 1)[0])


def test_an_error_in_a_worker_reaches_get_and_stops_the_enqueuer():
    class Broken(CountingSequence):
        def __getitem__(self, i):
            if i == 2:
                raise KeyError("batch 2 is missing")
            return super().__getitem__(i)

    enqueuer = utils.OrderedEnqueuer(Broken(delay=0))
    enqueuer.start(workers=2)
    stream = enqueuer.get()
    assert int(next(stream)[0]) == 0 and int(next(stream)[0]) == 1
    with pytest.raises(KeyError, match="batch 2 is missing"):
        next(stream)
    assert not enqueuer.is_running()
    assert kerasish_threads() == []


def test_enqueuer_start_checks_its_arguments():
    enqueuer = utils.OrderedEnqueuer(CountingSequence())
    with pytest.raises(ValueError, match="workers must be an int >= 0; received -1"):
        enqueuer.start(workers=-1)
    with pytest.raises(ValueError, match="max_queue_size must be an int; received 2.5"):
        enqueuer.start(max_queue_size=2.5)
    assert not enqueuer.is_running()
    with pytest.raises(TypeError):
        data_utils.SequenceEnqueuer(CountingSequence())  # the abstract base


@pytest.mark.parametrize("use_multiprocessing", [False, True])
def test_generator_enqueuer_yields_a_finite_generator_in_order_then_ends(use_multiprocessing):
    enqueuer = utils.GeneratorEnqueuer((np.full(2, i) for i in range(7)), use_multiprocessing=use_multiprocessing)
    enqueuer.start(workers=1, max_queue_size=3)
    got = [int(batch[0]) for batch in enqueuer.get()]
    enqueuer.stop()
    assert got == list(range(7))
    assert kerasish_threads() == []


def test_generator_enqueuer_stop_leaves_the_users_generator_usable_and_skips_none():
    def generator():
        for i in range(100):
            yield None if i == 1 else i

    source = generator()
    enqueuer = utils.GeneratorEnqueuer(source)
    enqueuer.start(max_queue_size=2)
    stream = enqueuer.get()
    assert [next(stream), next(stream)] == [0, 2]  # None items are skipped, as Keras
    enqueuer.stop()
    assert isinstance(next(source), int)  # not closed by stop()


def test_generator_enqueuer_seeds_numpy_in_its_process_with_random_seed_plus_pid():
    def draws():
        while True:
            yield os.getpid(), np.random.randint(1 << 30)

    enqueuer = utils.GeneratorEnqueuer(draws(), use_multiprocessing=True, random_seed=7)
    enqueuer.start()
    (pid, first), (_, second) = take_raw(enqueuer, 2)
    enqueuer.stop()
    assert pid != os.getpid()
    rng = np.random.RandomState(7 + pid)  # Keras 2.3.1 init_pool_generator: np.random.seed(random_seed + ident)
    assert [first, second] == [rng.randint(1 << 30), rng.randint(1 << 30)]


def take_raw(enqueuer, count):
    stream = enqueuer.get()
    return [next(stream) for _ in range(count)]


def test_generator_enqueuer_warns_like_keras_about_wait_time_and_many_processes():
    with pytest.warns(DeprecationWarning, match="`wait_time` is not used anymore."):
        utils.GeneratorEnqueuer(iter([]), wait_time=0.05)
    enqueuer = utils.GeneratorEnqueuer(iter([1, 2]), use_multiprocessing=True)
    with pytest.warns(UserWarning, match="would each run a copy of the generator"):
        enqueuer.start(workers=3)
    assert list(enqueuer.get()) == [1, 2]
    enqueuer.stop()


def test_keras_pool_helpers_share_sequences_by_uid():
    sequence = CountingSequence(delay=0)
    data_utils.init_pool({41: sequence})
    try:
        assert int(data_utils.get_index(41, 4)[0]) == 4
        data_utils.init_pool_generator({42: iter("ab")}, random_seed=3)
        assert data_utils.next_sample(42) == "a"
        assert np.random.randint(1 << 30) == np.random.RandomState(3 + os.getpid()).randint(1 << 30)
    finally:
        data_utils.init_pool({})


# ---------------------------------------------------------------------------------------------------------
# Public names (keras.utils and keras.utils.data_utils)
# ---------------------------------------------------------------------------------------------------------

def test_keras_utils_exports_get_file_and_the_enqueuers():
    from kerasish.utils.sequence import Sequence as kerasish_sequence
    assert utils.get_file is data_utils.get_file
    assert utils.OrderedEnqueuer is enqueuers.OrderedEnqueuer is data_utils.OrderedEnqueuer
    assert utils.GeneratorEnqueuer is data_utils.GeneratorEnqueuer
    assert data_utils.Sequence is utils.Sequence is kerasish_sequence


def test_no_argument_of_data_utils_enqueuers_or_datasets_is_ignored(monkeypatch):
    """tests/test_ignored_arguments.py's two checks, over this issue's modules (until they join its list)."""
    import test_ignored_arguments as ignored
    from kerasish.datasets import (boston_housing, cifar, cifar10, cifar100, fashion_mnist, imdb, mnist, reuters,
                                   text_sequences)
    from kerasish.utils import plain_data
    modules = [data_utils, enqueuers, plain_data, boston_housing, cifar, cifar10, cifar100, fashion_mnist, imdb,
               mnist, reuters, text_sequences]
    monkeypatch.setattr(ignored, "PUBLIC_MODULES", modules)
    assert "kerasish.utils.enqueuers.GeneratorEnqueuer.__init__" in ignored.public_callables()
    assert ignored.findings(ignored.unread_parameters) == []
    assert ignored.findings(ignored.only_stored_parameters) == []
