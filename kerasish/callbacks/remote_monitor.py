"""``RemoteMonitor`` (Keras 2.3.1 ``keras/callbacks/callbacks.py``) on the standard library.

K231 posts with ``requests``; this sends the same request with ``urllib.request``, so no extra package is needed:
a form-encoded body ``<field>=<JSON of the logs and epoch>`` (``requests.post(url, {field: json.dumps(send)})``),
or, with ``send_as_json``, the JSON itself as an ``application/json`` body (``requests.post(url, json=send)``).
"""
from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
import warnings

import numpy as np
import torch

from kerasish.callbacks.callback import Callback
from kerasish.distributed import is_main_process

DEFAULT_TIMEOUT = 10.0  # seconds; requests (K231) has no default timeout, so a silent server would hang fit


class RemoteMonitor(Callback):
    """Callback used to stream events to a server.

    Events are sent to ``root + '/publish/epoch/end/'`` by default. Calls are HTTP POST, with a ``data``
    argument which is a JSON-encoded dictionary of event data (the epoch logs and the 0-based ``epoch``). If
    ``send_as_json`` is True, the content type of the request will be ``application/json``; otherwise the
    serialized JSON is sent within a form.

    Arguments:
        root: string; root url of the target server.
        path: string; path relative to ``root`` to which the events will be sent.
        field: string; JSON field under which the data will be stored. The field is used only if the payload is
            sent within a form (i.e. ``send_as_json`` is False).
        headers: dictionary; optional custom HTTP headers.
        send_as_json: boolean; whether the request should be sent as ``application/json``.

    A server that cannot be reached gives K231's warning and training goes on. As with K231 (``requests`` does
    not raise on HTTP error statuses), an error status from a server that answered is not reported. Each request
    waits at most ``self.timeout`` seconds (``DEFAULT_TIMEOUT``; K231 had no limit).
    """

    def __init__(self, root: str = "http://localhost:9000", path: str = "/publish/epoch/end/", field: str = "data",
                 headers: dict | None = None, send_as_json: bool = False):
        super().__init__()
        self.root = root
        self.path = path
        self.field = field
        self.headers = headers
        self.send_as_json = send_as_json
        self.timeout = DEFAULT_TIMEOUT

    def on_epoch_end(self, epoch, logs=None):
        if not is_main_process():  # one report per epoch from a torchrun job, not one per replica
            return
        logs = logs or {}
        send = {"epoch": epoch}
        for key, value in logs.items():
            send[key] = _plain(value)
        if self.send_as_json:
            body, content_type = json.dumps(send).encode("utf-8"), "application/json"
        else:
            body = urllib.parse.urlencode({self.field: json.dumps(send)}).encode("ascii")
            content_type = "application/x-www-form-urlencoded"
        headers = dict(self.headers or {})
        if not any(name.lower() == "content-type" for name in headers):
            headers["Content-Type"] = content_type
        request = urllib.request.Request(self.root + self.path, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                response.read()
        except urllib.error.HTTPError:
            pass  # the server answered (see the class docstring)
        except (urllib.error.URLError, OSError, ValueError):
            # ValueError: a malformed URL, which requests reports as a RequestException too.
            warnings.warn("Warning: could not reach RemoteMonitor root server at " + str(self.root), stacklevel=2)


def _plain(value):
    # K231 turns NumPy values into Python ones with .item(); tensors (a user's logs) likewise.
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    if isinstance(value, (np.ndarray, np.generic)):
        return value.item() if value.size == 1 else value.tolist()
    return value
