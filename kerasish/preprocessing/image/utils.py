"""Image files and single-image functions of ``keras.preprocessing.image`` (Keras 2.3.1 / keras-preprocessing
1.1.2 signatures and semantics).

``load_img``/``img_to_array``/``array_to_img``/``save_img`` move images between files, PIL and NumPy. The
single-image transforms (``apply_affine_transform``, ``random_rotation`` ...) take and return one NumPy image
and run the batched kernels of ``kernels.py`` on a batch of one. The ``random_*`` functions draw from torch's
global generator (``torch.manual_seed`` makes them reproducible); NumPy's global random state is left alone.
"""
from __future__ import annotations

import io
import os
import warnings

import numpy as np
import torch

from kerasish import backend
from kerasish.preprocessing.image import kernels
from kerasish.utils.io_utils import atomic_write

try:
    from PIL import Image as pil_image
except ImportError:  # pragma: no cover - Pillow is a dependency of torchvision
    pil_image = None

WHITE_LIST_FORMATS = ("png", "jpg", "jpeg", "bmp", "ppm", "tif", "tiff")

if pil_image is not None:
    PIL_INTERPOLATION_METHODS = {
        "nearest": pil_image.NEAREST, "bilinear": pil_image.BILINEAR, "bicubic": pil_image.BICUBIC,
        "hamming": pil_image.HAMMING, "box": pil_image.BOX, "lanczos": pil_image.LANCZOS,
    }
else:  # pragma: no cover
    PIL_INTERPOLATION_METHODS = {}


def _require_pil(what: str) -> None:
    if pil_image is None:
        raise ImportError(f"Could not import PIL.Image. The use of `{what}` requires PIL (pip install Pillow).")


def _data_format(data_format) -> str:
    if data_format is None:
        return backend.image_data_format()
    if data_format not in ("channels_first", "channels_last"):
        raise ValueError(f"Invalid data_format: {data_format!r}; expected 'channels_first' or 'channels_last'.")
    return data_format


# ---------------------------------------------------------------------------- files, PIL and arrays
def load_img(path, grayscale: bool = False, color_mode: str = "rgb", target_size=None,
             interpolation: str = "nearest"):
    """Loads an image into PIL format, converted to ``color_mode`` ('grayscale', 'rgb', 'rgba') and resized to
    ``target_size`` ``(height, width)`` with ``interpolation`` when its size differs. A file PIL cannot read
    raises an ``OSError`` naming it (``read_image``)."""
    if grayscale is True:
        warnings.warn('grayscale is deprecated. Please use color_mode = "grayscale"', stacklevel=2)
        color_mode = "grayscale"
    _require_pil("load_img")
    return read_image(path, color_mode, target_size, interpolation, f"load_img: image file {_shown(path)!r}")


def read_image(path, color_mode: str, target_size, interpolation: str, described: str):
    """``load_img``'s work; ``described`` says which file it is in errors (the iterators add its class or its
    DataFrame row), and every error from opening or decoding it is an ``OSError`` of the same kind with that
    in front, chained to PIL's (whose own message names only an in-memory buffer)."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as err:
        raise _same_kind(err, f"{described} cannot be opened: {err.strerror or err}.") from err
    try:
        img = pil_image.open(io.BytesIO(data))
        img.load()  # PIL decodes lazily: find a truncated or corrupt file here, not in convert or resize
    except Exception as err:  # PIL raises OSError, SyntaxError, ValueError, EOFError ... for broken files
        raise _same_kind(err, f"{described} cannot be read: {_decode_failure(err)}. Replace or remove the "
                              "file.") from err
    img = _convert_mode(img, color_mode)
    if target_size is not None:
        size = (target_size[1], target_size[0])  # PIL sizes are (width, height)
        if img.size != size:
            if interpolation not in PIL_INTERPOLATION_METHODS:
                raise ValueError(f"Invalid interpolation method {interpolation} specified. Supported methods "
                                 f"are {', '.join(PIL_INTERPOLATION_METHODS)}")
            img = img.resize(size, PIL_INTERPOLATION_METHODS[interpolation])
    return img


def _shown(path) -> str:
    return os.fsdecode(path) if isinstance(path, (str, bytes, os.PathLike)) else str(path)


def _decode_failure(err: Exception) -> str:
    if isinstance(err, pil_image.UnidentifiedImageError):
        return ("PIL cannot identify it as an image (an empty or non-image file, or a format Pillow cannot "
                "decode)")
    if "truncated" in str(err):
        return f"the file is truncated: it ends before the image data does (PIL: {err})"
    return f"PIL raised {type(err).__name__}: {err}"


def _same_kind(err: Exception, message: str) -> OSError:
    """An error of ``err``'s kind (``FileNotFoundError``, PIL's ``UnidentifiedImageError``, ...) when it is an
    ``OSError``, so that code catching those still does; ``OSError`` for PIL's other failures."""
    try:
        return type(err)(message) if isinstance(err, OSError) else OSError(message)
    except TypeError:
        return OSError(message)


def _convert_mode(img, color_mode: str):
    if color_mode == "grayscale":
        # 16- and 32-bit grayscale files keep their depth, as in keras-preprocessing.
        return img if img.mode in ("L", "I;16", "I") else img.convert("L")
    if color_mode == "rgba":
        return img if img.mode == "RGBA" else img.convert("RGBA")
    if color_mode == "rgb":
        return img if img.mode == "RGB" else img.convert("RGB")
    raise ValueError(f'color_mode must be "grayscale", "rgb", or "rgba"; received {color_mode!r}.')


def img_to_array(img, data_format: str | None = None, dtype=None) -> np.ndarray:
    """A PIL image -> a rank-3 array in the layout of ``data_format`` (default: the backend's)."""
    data_format = _data_format(data_format)
    x = np.asarray(img, dtype=dtype or backend.floatx())
    if x.ndim == 2:
        x = x[:, :, None]
    elif x.ndim != 3:
        raise ValueError(f"Unsupported image shape: {x.shape}")
    return x.transpose(2, 0, 1) if data_format == "channels_first" else x


def array_to_img(x, data_format: str | None = None, scale: bool = True, dtype=None):
    """A rank-3 array -> a PIL image (1 channel: 'L', or 'I' above 255; 3: 'RGB'; 4: 'RGBA').

    ``scale=True`` stretches the values to 0..255 (min -> 0, max -> 255) before truncating to integers."""
    _require_pil("array_to_img")
    data_format = _data_format(data_format)
    x = np.asarray(x, dtype=dtype or backend.floatx())
    if x.ndim != 3:
        raise ValueError(f"Expected image array to have rank 3 (single image). Got array with shape: {x.shape}")
    if data_format == "channels_first":
        x = x.transpose(1, 2, 0)
    if scale:
        x = x - np.min(x)
        top = np.max(x)
        if top != 0:
            x /= top
        x *= 255
    channels = x.shape[2]
    if channels == 4:
        return pil_image.fromarray(x.astype("uint8"), "RGBA")
    if channels == 3:
        return pil_image.fromarray(x.astype("uint8"), "RGB")
    if channels == 1:
        if np.max(x) > 255:
            return pil_image.fromarray(x[:, :, 0].astype("int32"), "I")
        return pil_image.fromarray(x[:, :, 0].astype("uint8"), "L")
    raise ValueError(f"Unsupported channel number: {channels}")


def save_img(path, x, data_format: str | None = None, file_format=None, scale: bool = True, **kwargs) -> None:
    """Saves a rank-3 array as an image file (``file_format`` overrides the extension; RGBA becomes RGB for
    JPEG, with a warning)."""
    img = array_to_img(x, data_format=data_format, scale=scale)
    if img.mode == "RGBA" and file_format in ("jpg", "jpeg"):
        warnings.warn("The JPG format does not support RGBA images, converting to RGB.", stacklevel=2)
        img = img.convert("RGB")
    write_image(img, path, file_format, "save_img", **kwargs)


def write_image(img, path, file_format, caller: str, **kwargs) -> None:
    """``img.save(path, format=file_format, **kwargs)`` through ``atomic_write`` (as every file kerasish writes:
    mode, symlinks, write-protection and crash safety as in io_utils), the format from ``file_format`` or the
    extension as PIL would choose it ('jpg' is JPEG); PIL's failures named with the path."""
    shown = _shown(path)
    pil_format = _pil_format(shown, file_format, caller)
    with atomic_write(path, "wb") as f:
        try:
            img.save(f, format=pil_format, **kwargs)
        except (OSError, ValueError, KeyError) as err:  # e.g. 'cannot write mode RGBA as JPEG'
            raise _same_kind(err, f"{caller}: cannot write {shown!r} as {pil_format}: {err}") from err


def _pil_format(shown: str, file_format, caller: str) -> str:
    pil_image.init()
    extensions = pil_image.registered_extensions()
    if file_format:
        chosen = extensions.get(f".{str(file_format).lower().lstrip('.')}", str(file_format).upper())
        if chosen not in pil_image.SAVE:
            raise ValueError(f"{caller}: unknown file_format {file_format!r}; expected one PIL writes, e.g. "
                             "'png', 'jpeg', 'bmp', 'tiff'.")
        return chosen
    extension = os.path.splitext(shown)[1].lower()
    if extensions.get(extension) not in pil_image.SAVE:
        raise ValueError(f"{caller}: unknown file extension {extension!r} in {shown!r}: cannot tell which image "
                         "format to write; use .png, .jpg, .bmp, .tif, or pass file_format.")
    return extensions[extension]


def list_valid_files(directory: str, follow_links: bool = False, white_list_formats=WHITE_LIST_FORMATS):
    """``(root, filename)`` of the image files under ``directory``, walking folders in sorted order and listing
    each folder's files sorted (keras-preprocessing ``_iter_valid_files``)."""
    extensions = tuple(f".{ext}" for ext in white_list_formats)
    for root, _, files in sorted(os.walk(directory, followlinks=follow_links), key=lambda entry: entry[0]):
        for fname in sorted(files):
            if fname.lower().endswith(".tiff"):
                warnings.warn('Using ".tiff" files with multiple bands will cause distortion. '
                              "Please verify your output.", stacklevel=2)
            if fname.lower().endswith(extensions):
                yield root, fname


# ---------------------------------------------------------------------------- single-image transforms
def apply_affine_transform(x, theta=0, tx=0, ty=0, shear=0, zx=1, zy=1, row_axis=0, col_axis=1, channel_axis=2,
                           fill_mode="nearest", cval=0., order=1):
    """Rotation ``theta`` and shear (degrees), shift ``tx`` (rows) and ``ty`` (columns) in pixels, zoom ``zx``
    (rows) and ``zy`` (columns), about keras-preprocessing 1.1.2's centre ``(h/2 + 0.5, w/2 + 0.5)``.

    As in keras-preprocessing 1.1.2, each slice along ``channel_axis`` is transformed in its own axis order;
    ``row_axis``/``col_axis`` only give the sizes that place the centre. With no transform ``x`` itself comes
    back."""
    if theta == 0 and tx == 0 and ty == 0 and shear == 0 and zx == 1 and zy == 1:
        return x
    x = np.asarray(x)
    if x.ndim != 3:
        raise ValueError(f"apply_affine_transform: expected a single image of rank 3; got shape {x.shape}.")
    params = {k: np.array([float(v)]) for k, v in
              dict(theta=theta, tx=tx, ty=ty, shear=shear, zx=zx, zy=zy).items()}
    pivot = (x.shape[row_axis] / 2 + 0.5, x.shape[col_axis] / 2 + 0.5)
    channels = np.moveaxis(x, channel_axis, 0)
    matrices = torch.from_numpy(kernels.affine_matrices(params, *channels.shape[1:], center=pivot))
    image = torch.from_numpy(np.ascontiguousarray(channels, dtype=_compute_dtype(x.dtype)))
    out = kernels.resample(image[None], matrices, fill_mode, cval, order)[0].numpy()
    return np.moveaxis(_cast_like(out, x.dtype), 0, channel_axis)


def _compute_dtype(dtype) -> np.dtype:
    return np.dtype(np.float64) if np.dtype(dtype) == np.float64 else np.dtype(np.float32)


def _cast_like(values: np.ndarray, dtype) -> np.ndarray:
    dtype = np.dtype(dtype)
    if dtype.kind in "ui":
        # SciPy writes integer outputs rounded half up.
        info = np.iinfo(dtype)
        return np.clip(np.floor(values + 0.5), info.min, info.max).astype(dtype)
    return values.astype(dtype, copy=False)


def _uniform(low, high) -> float:
    return float(low + (high - low) * torch.rand((), dtype=torch.float64))


def random_rotation(x, rg, row_axis=1, col_axis=2, channel_axis=0, fill_mode="nearest", cval=0.,
                    interpolation_order=1):
    """Rotates by a random angle in ``[-rg, rg]`` degrees. (keras-preprocessing 1.1.2 passes only
    ``channel_axis`` on to ``apply_affine_transform``, so do we.)"""
    theta = _uniform(-rg, rg)
    return apply_affine_transform(x, theta=theta, channel_axis=channel_axis, fill_mode=fill_mode, cval=cval,
                                  order=interpolation_order)


def random_shift(x, wrg, hrg, row_axis=1, col_axis=2, channel_axis=0, fill_mode="nearest", cval=0.,
                 interpolation_order=1):
    """Shifts by random fractions ``hrg`` of the height and ``wrg`` of the width."""
    h, w = x.shape[row_axis], x.shape[col_axis]
    tx = _uniform(-hrg, hrg) * h
    ty = _uniform(-wrg, wrg) * w
    return apply_affine_transform(x, tx=tx, ty=ty, channel_axis=channel_axis, fill_mode=fill_mode, cval=cval,
                                  order=interpolation_order)


def random_shear(x, intensity, row_axis=1, col_axis=2, channel_axis=0, fill_mode="nearest", cval=0.,
                 interpolation_order=1):
    """Shears by a random angle in ``[-intensity, intensity]`` degrees."""
    shear = _uniform(-intensity, intensity)
    return apply_affine_transform(x, shear=shear, channel_axis=channel_axis, fill_mode=fill_mode, cval=cval,
                                  order=interpolation_order)


def random_zoom(x, zoom_range, row_axis=1, col_axis=2, channel_axis=0, fill_mode="nearest", cval=0.,
                interpolation_order=1):
    """Zooms rows and columns by factors drawn independently from ``zoom_range`` (values < 1 zoom in)."""
    if len(zoom_range) != 2:
        raise ValueError(f"`zoom_range` should be a tuple or list of two floats. Received: {zoom_range}")
    if zoom_range[0] == 1 and zoom_range[1] == 1:
        zx, zy = 1, 1
    else:
        zx, zy = _uniform(zoom_range[0], zoom_range[1]), _uniform(zoom_range[0], zoom_range[1])
    return apply_affine_transform(x, zx=zx, zy=zy, channel_axis=channel_axis, fill_mode=fill_mode, cval=cval,
                                  order=interpolation_order)


def apply_channel_shift(x, intensity, channel_axis=0):
    """Adds ``intensity`` to every channel, clipped to the image's overall min and max."""
    x = np.asarray(x)
    dtype = x.dtype if x.dtype.kind == "f" else np.dtype(np.float64)
    image = torch.from_numpy(np.ascontiguousarray(x, dtype=dtype))
    return kernels.channel_shift(image[None], torch.tensor([float(intensity)]))[0].numpy()


def random_channel_shift(x, intensity_range, channel_axis=0):
    """``apply_channel_shift`` with an intensity drawn from ``[-intensity_range, intensity_range]``."""
    return apply_channel_shift(x, _uniform(-intensity_range, intensity_range), channel_axis=channel_axis)


def apply_brightness_shift(x, brightness):
    """PIL's ``ImageEnhance.Brightness`` on a channels-last image, as keras-preprocessing 1.1.2 does it: the
    image is first stretched to 0..255 and truncated to integers, so the result is float32 in 0..255."""
    x = np.asarray(x)
    if x.ndim != 3:
        raise ValueError(f"Expected image array to have rank 3 (single image). Got array with shape: {x.shape}")
    if x.shape[2] not in (1, 3, 4):
        raise ValueError(f"Unsupported channel number: {x.shape[2]}")
    image = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))
    return kernels.brightness_shift(image[None], torch.tensor([float(brightness)]), channel_dim=-1)[0].numpy()


def random_brightness(x, brightness_range):
    """``apply_brightness_shift`` with a factor drawn from ``brightness_range``."""
    if len(brightness_range) != 2:
        raise ValueError("`brightness_range should be tuple or list of two floats. "
                         f"Received: {brightness_range}")
    return apply_brightness_shift(x, _uniform(brightness_range[0], brightness_range[1]))
