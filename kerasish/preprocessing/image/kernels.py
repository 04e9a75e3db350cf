"""Augmentation kernels: pure batched functions, tensors in and tensors out, no randomness.

keras-preprocessing 1.1.2 (KP112) transforms one image at a time (``apply_transform``,
``image_data_generator.py:835``): an affine resample with ``scipy.ndimage.affine_transform``, then a channel
shift, a horizontal flip, a vertical flip and a brightness change. Here a whole batch goes through

1. ``affine_matrices``: parameters -> one ``(N, 3, 3)`` matrix per image, composed as KP112 composes them and
   with the flips folded in (see its docstring for the derivation);
2. ``resample``: ONE sampling of the batch (``grid_sample`` on a grid built from the matrices) honouring
   ``fill_mode``/``cval`` and interpolation order 0 or 1 exactly as SciPy does;
3. ``channel_shift`` and ``brightness_shift``: batched, per-image statistics;
4. ``standardize``: rescale, sample-wise and feature-wise normalisation and ZCA as tensor ops.

Images are in the Keras layout of their ``data_format``; the kernels work on any device.
"""
from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from kerasish import backend

FILL_MODES = ("constant", "nearest", "reflect", "wrap")
CENTERS = ("keras", "exact")
# Sample-wise and feature-wise std normalisation add this to the std (KP112 ``standardize``).
STD_EPSILON = 1e-6


# ---------------------------------------------------------------------------- matrices
def affine_matrices(params: dict, height: int, width: int, center="keras"):
    """Per-image matrices mapping an output pixel ``(row, col, 1)`` to the input pixel it samples.

    KP112 (``affine_transformations.py:254``) composes, in array-index coordinates (row, col),
    ``M = R(theta) . T(tx, ty) . Sh(shear) . Z(zx, zy)`` with
    ``R = [[cos, -sin], [sin, cos]]``, ``T`` a translation by ``(tx, ty)``, ``Sh = [[1, -sin s], [0, cos s]]``,
    ``Z = diag(zx, zy)``, and centres it as ``O . M . O^-1`` with ``O`` a translation by the pivot ``o``.
    Writing ``A = R . Sh . Z`` (2x2) this is ``p_in = A (p_out - o) + o + R t``. SciPy's ``affine_transform``
    reads the matrix as output -> input, so this is the sampling map as is.

    The flips come after the resample in KP112 (channel shift between them commutes with a flip: its min and
    max are image-global), so flipped output pixel ``(r, c)`` is unflipped output pixel ``(r, w-1-c)``
    (horizontal) or ``(h-1-r, c)`` (vertical): the final map is ``M_c . F_h . F_v``, i.e. column ``j`` of ``A``
    changes sign and ``(size_j - 1) * A[:, j]`` is added to the offset.

    ``center``: ``'keras'`` pivots about ``(h/2 + 0.5, w/2 + 0.5)`` as every KP release up to 1.1.2 does
    (``transform_matrix_offset_center``: one pixel below and right of the true centre); ``'exact'`` about the
    true centre ``((h-1)/2, (w-1)/2)``; a ``(row, col)`` pair pivots there.

    ``params`` holds ``(N,)`` arrays, all NumPy or all torch (any device); the result is of the same kind,
    float64. Matrices are usually composed on the host: they are ~40 operations on ``N`` numbers, which cost
    NumPy ~1 us each and torch ~5 us each (and a GPU a launch each).
    """
    xp = torch if isinstance(params["theta"], torch.Tensor) else np
    theta, tx, ty, shear, zx, zy = (_float64(params[k], xp) for k in ("theta", "tx", "ty", "shear", "zx", "zy"))
    o_row, o_col = _pivot(center, height, width)

    rad = xp.stack([theta, shear]) * (math.pi / 180.0)
    (c, cos_sh), (s, sin_sh) = xp.cos(rad), xp.sin(rad)
    # A = R . Sh . Z (columns scaled by zx, zy); offset = o - A o + R t
    a00, a10 = c * zx, s * zx
    a01, a11 = -(c * sin_sh + s * cos_sh) * zy, (c * cos_sh - s * sin_sh) * zy
    b0 = c * tx - s * ty + o_row - a00 * o_row - a01 * o_col
    b1 = s * tx + c * ty + o_col - a10 * o_row - a11 * o_col

    flip_h, flip_v = params.get("flip_horizontal"), params.get("flip_vertical")
    if _any(flip_h):  # output column c reads unflipped column w-1-c
        flipped = _float64(flip_h, xp)
        b0, b1 = b0 + flipped * (width - 1) * a01, b1 + flipped * (width - 1) * a11
        a01, a11 = a01 - 2 * flipped * a01, a11 - 2 * flipped * a11
    if _any(flip_v):  # output row r reads unflipped row h-1-r
        flipped = _float64(flip_v, xp)
        b0, b1 = b0 + flipped * (height - 1) * a00, b1 + flipped * (height - 1) * a10
        a00, a10 = a00 - 2 * flipped * a00, a10 - 2 * flipped * a10

    zeros, ones = xp.zeros_like(a00), xp.ones_like(a00)
    return xp.stack([a00, a01, b0, a10, a11, b1, zeros, zeros, ones], 1).reshape(-1, 3, 3)


def _any(flags) -> bool:
    # Skipping an all-False flip saves work on the host; on a GPU we do not look (it would sync).
    if flags is None:
        return False
    if isinstance(flags, np.ndarray) or flags.device.type == "cpu":
        return bool(flags.any())
    return True


def _float64(value, xp):
    if xp is torch:
        return value.to(torch.float64)
    return np.asarray(value, dtype=np.float64)


def _pivot(center, height: int, width: int) -> tuple[float, float]:
    if isinstance(center, str):
        if center == "keras":
            return height / 2 + 0.5, width / 2 + 0.5
        if center == "exact":
            return (height - 1) / 2, (width - 1) / 2
        raise ValueError(f"center: expected 'keras', 'exact' or a (row, col) pair; received {center!r}.")
    row, col = center
    return float(row), float(col)


# ---------------------------------------------------------------------------- resampling
def resample(images: torch.Tensor, matrices, fill_mode: str = "nearest", cval: float = 0.0,
             order: int = 1) -> torch.Tensor:
    """Sample ``images`` ``(N, C, H, W)`` at ``matrices`` ``(N, 3, 3)`` (output pixel -> input pixel; NumPy or
    torch, float64), as
    ``scipy.ndimage.affine_transform(channel, M[:2, :2], M[:2, 2], order, mode=fill_mode, cval=cval)`` does
    for each channel (SciPy >= 1.6 boundary rules):

    - ``'nearest'``: coordinates clamped to ``[0, n-1]`` (torch ``padding_mode='border'``);
    - ``'reflect'``: half-sample symmetric ``dcba|abcd|dcba``, which is torch's ``'reflection'`` with
      ``align_corners=False`` (reflection about the outer pixel edges, then clamped);
    - ``'constant'``: any coordinate outside ``[0, n-1]`` gives exactly ``cval`` (no blending with ``cval``
      near the edge: SciPy's ``'constant'`` is not its ``'grid-constant'``);
    - ``'wrap'``: SciPy's ``'wrap'`` repeats with period ``n-1`` (first and last sample overlap), not the
      ``abcd|abcd`` its documentation draws; we match what SciPy computes.

    ``order=1`` is bilinear, ``order=0`` takes the sample at ``floor(p + 0.5)`` as SciPy does (torch's own
    nearest mode rounds half to even). Orders 2-5 fall back to SciPy on the host, one channel at a time.
    """
    if fill_mode not in FILL_MODES:
        raise ValueError(f"fill_mode: expected one of {FILL_MODES}; received {fill_mode!r}.")
    if order not in (0, 1):
        return _resample_with_scipy(images, matrices, fill_mode, cval, order)
    _, _, height, width = images.shape
    compute_dtype = torch.float64 if images.dtype == torch.float64 else torch.float32
    source = images if images.dtype == compute_dtype else images.to(compute_dtype)

    if order == 1 and fill_mode in ("nearest", "reflect"):
        grid = _grid(matrices, height, width, compute_dtype, images.device, normalized=True)
        padding = "border" if fill_mode == "nearest" else "reflection"
        return F.grid_sample(source, grid, mode="bilinear", padding_mode=padding, align_corners=False)

    pixels = _grid(matrices, height, width, compute_dtype, images.device, normalized=False)  # (col, row)
    sizes = backend.to_device(torch.tensor([width, height], dtype=compute_dtype), images.device)
    inside = None
    if fill_mode == "constant":
        inside = ((pixels >= 0) & (pixels <= sizes - 1)).all(-1)
    elif fill_mode == "wrap":
        pixels = _scipy_wrap(pixels, sizes)
    elif fill_mode == "reflect" and order == 0:
        pixels = _scipy_reflect(pixels, sizes)
    if order == 0:
        pixels = torch.floor(pixels + 0.5)
    grid = (pixels * 2 + 1) / sizes - 1
    padding = "reflection" if fill_mode == "reflect" else "border"
    out = F.grid_sample(source, grid, mode="nearest" if order == 0 else "bilinear", padding_mode=padding,
                        align_corners=False)
    if inside is not None:
        out = out.masked_fill(~inside[:, None], cval)
    return out


def _grid(matrices, height: int, width: int, dtype: torch.dtype, device: torch.device,
          normalized: bool) -> torch.Tensor:
    """The sampling grid of ``matrices`` (N, 3, 3; NumPy or torch): a contiguous (N, H, W, 2) tensor of
    ``dtype`` on ``device`` holding, for every output pixel, its input position as grid_sample's ``(x, y)`` =
    ``(col, row)``; ``normalized``: in grid_sample's ``align_corners=False`` units ``(2p + 1) / size - 1``,
    else in pixels.

    The grid is linear in the matrix entries, so it is one GEMM ``M.view(N, 9) @ K`` with a constant
    ``K`` (9, H*W*2) that also swaps (row, col) to (x, y) and normalises (``_grid_basis``). ``F.affine_grid``'s
    batched matmul with K=3 is ~10x slower on CPU and an einsum's permuted output makes grid_sample ~25%
    slower. The GEMM is torch's even for NumPy matrices on the CPU: NumPy's OpenBLAS is faster at these shapes
    alone, but its threads keep spinning after the call and then fight torch's own threads for the cores,
    which made fit_generator on 64x64 images 3.8x slower than fit (1.13x with torch's GEMM).
    """
    n = matrices.shape[0]
    if height * width > _BASIS_MAX_PIXELS:  # K would be large: two small products instead
        matrices = backend.to_device(torch.as_tensor(matrices, dtype=torch.float64), device)
        to_grid = _grid_basis(1, 1, torch.float64, device, normalized, height, width)  # S, (3, 2)
        theta = (matrices.transpose(1, 2) @ to_grid).to(dtype)  # (N, 3 [row, col, 1], 2 [x, y])
        rows, cols = torch.meshgrid(torch.arange(height, dtype=dtype, device=device),
                                    torch.arange(width, dtype=dtype, device=device), indexing="ij")
        base = torch.stack([rows, cols, torch.ones_like(rows)], -1).reshape(height * width, 3)
        return torch.einsum("pk,nkj->npj", base, theta).contiguous().view(n, height, width, 2)
    matrices = backend.to_device(torch.as_tensor(matrices, dtype=dtype), device)
    basis = _grid_basis(height, width, dtype, device, normalized)
    return torch.mm(matrices.reshape(n, 9), basis).view(n, height, width, 2)


_BASIS_MAX_PIXELS = 512 * 512
_CONSTANTS: dict = {}


def _grid_basis(height: int, width: int, dtype, device, normalized: bool, image_height: int | None = None,
                image_width: int | None = None) -> torch.Tensor:
    """``K[(i, k), (p, j)] = S[j, i] * base[p, k]``: ``base`` the output pixels ``(row, col, 1)`` of an
    ``height`` x ``width`` grid, ``S`` the map from an input position ``(row, col, 1)`` to grid coordinate
    ``j`` (x, then y) for images of ``image_height`` x ``image_width`` (default: the grid's size). With a
    1 x 1 grid this is ``S.T`` itself, (3, 2)."""
    image_height, image_width = image_height or height, image_width or width
    key = (height, width, dtype, device, normalized, image_height, image_width)
    if key not in _CONSTANTS:
        rows, cols = torch.meshgrid(torch.arange(height, dtype=torch.float64),
                                    torch.arange(width, dtype=torch.float64), indexing="ij")
        base = torch.stack([rows, cols, torch.ones_like(rows)], -1).reshape(height * width, 3)
        if normalized:  # x = (2 col + 1) / w - 1, y = (2 row + 1) / h - 1
            to_grid = torch.tensor([[0, 2 / image_width, 1 / image_width - 1],
                                    [2 / image_height, 0, 1 / image_height - 1]], dtype=torch.float64)
        else:
            to_grid = torch.tensor([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]], dtype=torch.float64)
        if height * width == 1:
            _remember(key, to_grid.T.to(device=device, dtype=dtype).contiguous())
            return _CONSTANTS[key]
        basis = to_grid.T[:, None, None, :] * base.T[None, :, :, None]  # (i, k, p, j)
        _remember(key, basis.reshape(9, height * width * 2).to(device=device, dtype=dtype).contiguous())
    return _CONSTANTS[key]


def _remember(key, value) -> None:
    if len(_CONSTANTS) > 64:
        _CONSTANTS.clear()
    _CONSTANTS[key] = value


def _scipy_wrap(p: torch.Tensor, sizes: torch.Tensor) -> torch.Tensor:
    # scipy ni_interpolation.c map_coordinate, NI_EXTEND_WRAP: period n - 1.
    period = (sizes - 1).clamp(min=1)
    below = p + period * (torch.floor(-p / period) + 1)
    above = p - period * torch.floor(p / period)
    wrapped = torch.where(p < 0, below, torch.where(p > sizes - 1, above, p))
    return torch.where(sizes > 1, wrapped, torch.zeros_like(p))


def _scipy_reflect(p: torch.Tensor, sizes: torch.Tensor) -> torch.Tensor:
    # scipy map_coordinate, NI_EXTEND_REFLECT, folded the same way so that order-0 ties round as SciPy's do.
    period = 2 * sizes
    below = torch.where(p < -period, p + period * torch.floor(-p / period), p)  # [-2n, 0] for p < 0
    below = torch.where(below < -sizes, below + period, -below - 1)
    above = p - period * torch.floor(p / period)  # [0, 2n) for p > n - 1
    above = torch.where(above >= sizes, period - above - 1, above)
    return torch.where(p < 0, below, torch.where(p > sizes - 1, above, p))


def _resample_with_scipy(images: torch.Tensor, matrices, fill_mode, cval, order) -> torch.Tensor:
    from scipy import ndimage

    matrices = np.asarray(torch.as_tensor(matrices, dtype=torch.float64).cpu())
    host = images.detach().cpu().numpy()
    out = np.empty_like(host)
    for i, image in enumerate(host):
        for ch, channel in enumerate(image):
            out[i, ch] = ndimage.affine_transform(channel, matrices[i, :2, :2], matrices[i, :2, 2], order=order,
                                                  mode=fill_mode, cval=cval)
    return torch.from_numpy(out).to(images.device)


# ---------------------------------------------------------------------------- pixel-value transforms
def channel_shift(images: torch.Tensor, intensity: torch.Tensor) -> torch.Tensor:
    """``clip(x + intensity, min(x), max(x))`` with min and max over the whole image (KP112
    ``apply_channel_shift``: every channel shifted by the same amount). ``images`` is ``(N, ...)``."""
    flat = images.reshape(len(images), -1)
    shape = (-1,) + (1,) * (images.dim() - 1)
    low = flat.amin(1).view(shape)
    high = flat.amax(1).view(shape)
    shifted = images + intensity.to(images.dtype).view(shape)
    return torch.minimum(torch.maximum(shifted, low), high)


def brightness_shift(images: torch.Tensor, factor: torch.Tensor, channel_dim: int) -> torch.Tensor:
    """KP112 ``apply_brightness_shift``, batched: ``array_to_img`` (min-max rescale to 0..255 and truncate to
    uint8), PIL ``ImageEnhance.Brightness(img).enhance(b)`` (``trunc(float32(b) * v)`` clipped to 0..255;
    an alpha channel is kept), back to float. So the output is always in 0..255, whatever the input range.

    ``images`` is ``(N, ...)`` with 1, 3 or 4 channels on ``channel_dim``.
    """
    channels = images.shape[channel_dim]
    if channels not in (1, 3, 4):
        raise ValueError(f"brightness_range: brightness shifts need 1, 3 or 4 channels (PIL modes L, RGB, RGBA); "
                         f"the images have {channels}.")
    x = images.to(torch.float32)
    shape = (-1,) + (1,) * (x.dim() - 1)
    x = x - x.reshape(len(x), -1).amin(1).view(shape)
    top = x.reshape(len(x), -1).amax(1).view(shape)
    x = torch.where(top != 0, x / torch.where(top != 0, top, torch.ones_like(top)), x) * 255
    levels = torch.trunc(x)  # astype('uint8') of values in [0, 255]
    enhanced = torch.trunc(factor.to(torch.float32).view(shape) * levels).clamp_(0, 255)
    if channels == 4:
        alpha = torch.arange(4, device=x.device).view([-1 if d == channel_dim % x.dim() else 1
                                                       for d in range(x.dim())]) == 3
        enhanced = torch.where(alpha, levels, enhanced)
    return enhanced.to(images.dtype) if images.is_floating_point() else enhanced


def flip(images: torch.Tensor, flags: torch.Tensor, dim: int) -> torch.Tensor:
    """Reverse ``dim`` of the images whose flag is set (used when a batch needs no resampling)."""
    shape = (-1,) + (1,) * (images.dim() - 1)
    return torch.where(backend.to_device(flags, images.device).view(shape), images.flip(dim), images)


# ---------------------------------------------------------------------------- the whole per-batch transform
def apply_transforms(images: torch.Tensor, params: dict, *, channels_first: bool = False,
                     fill_mode: str = "nearest", cval: float = 0.0, order: int = 1, center="keras",
                     resample_needed: bool | None = None, matrices=None) -> torch.Tensor:
    """KP112 ``apply_transform`` for a batch ``(N, H, W, C)`` (or ``(N, C, H, W)`` with ``channels_first``):
    affine resample with the flips folded in, channel shift, brightness, in that order.

    ``params`` holds ``(N,)`` tensors or NumPy arrays. ``resample_needed=False`` promises that no image has a
    rotation, shift, shear or zoom (an ``ImageDataGenerator`` knows from its arguments); the flips are then
    done by reversing axes. ``None`` checks the parameters (cheap on the host, a sync on a GPU).
    ``matrices``: ``affine_matrices(params, ...)`` when the caller has them already.
    """
    nchw = images if channels_first else images.permute(0, 3, 1, 2)
    height, width = nchw.shape[-2:]
    if resample_needed is None:
        resample_needed = not _trivial_affine(params)
    if resample_needed:
        if matrices is None:
            matrices = affine_matrices(host_params(params), height, width, center)
        nchw = resample(nchw, matrices, fill_mode, cval, order)
    else:
        nchw = nchw if nchw.is_floating_point() else nchw.to(torch.get_default_dtype())
        for key, dim in (("flip_horizontal", 3), ("flip_vertical", 2)):
            if _any(params.get(key)):
                nchw = flip(nchw, torch.as_tensor(params[key]), dim)
    if params.get("channel_shift_intensity") is not None:
        nchw = channel_shift(nchw, backend.to_device(torch.as_tensor(params["channel_shift_intensity"]), nchw.device))
    if params.get("brightness") is not None:
        nchw = brightness_shift(nchw, backend.to_device(torch.as_tensor(params["brightness"]), nchw.device),
                                channel_dim=1)
    # Back to the Keras layout in its own memory order: a permuted view of an NCHW result would reach the
    # model's convolutions as torch's contiguous NCHW, which is ~1.5x slower on CPU than channels_last.
    return nchw if channels_first else nchw.permute(0, 2, 3, 1).contiguous()


def host_params(params: dict) -> dict:
    """The parameters as NumPy views when they all live on the host (composing there is cheapest), else as
    given."""
    host = {}
    for key, value in params.items():
        if value is None:
            continue
        if torch.is_tensor(value):
            if value.device.type != "cpu":
                return params
            value = value.numpy()
        host[key] = value
    return host


def _trivial_affine(params: dict) -> bool:
    host = host_params(params)
    checks = [(host.get("theta"), 0), (host.get("tx"), 0), (host.get("ty"), 0), (host.get("shear"), 0),
              (host.get("zx"), 1), (host.get("zy"), 1)]
    return all(v is None or bool((v == ref).all()) for v, ref in checks)


# ---------------------------------------------------------------------------- standardisation
def standardize(images: torch.Tensor, *, rescale=None, samplewise_center: bool = False,
                samplewise_std_normalization: bool = False, mean: torch.Tensor | None = None,
                std: torch.Tensor | None = None, principal_components: torch.Tensor | None = None) -> torch.Tensor:
    """KP112 ``standardize`` without ``preprocessing_function`` (the generator calls that per image first),
    for a batch ``(N, ...)``: ``rescale`` -> sample-wise centre -> sample-wise std -> feature-wise centre
    (``mean``) -> feature-wise std (``std``) -> ZCA (``principal_components``, flattened images times the
    matrix). Sample statistics are over each image; ``mean``/``std`` broadcast against one image; ``None``
    skips a step. Returns a new tensor."""
    x = images
    if rescale:
        x = x * rescale
    if samplewise_center or samplewise_std_normalization:
        dims = tuple(range(1, x.dim()))
        if samplewise_center:
            x = x - x.mean(dim=dims, keepdim=True)
        if samplewise_std_normalization:
            x = x / (x.std(dim=dims, keepdim=True, correction=0) + STD_EPSILON)
    if mean is not None:
        x = x - mean
    if std is not None:
        x = x / (std + STD_EPSILON)
    if principal_components is not None:
        flat = x.reshape(-1, math.prod(x.shape[-3:]))
        x = (flat @ principal_components).reshape(x.shape)
    return x
