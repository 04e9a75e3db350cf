"""``ImageDataGenerator``: Keras 2's real-time augmentation, with keras-preprocessing 1.1.2's semantics, run as
batched torch kernels.

Who does what:

===========================  ===============================================================================
ImageDataGenerator (here)     Keras's constructor, ``fit`` (feature-wise statistics, ZCA), ``standardize``,
                              ``flow*``, the per-image ``get_random_transform``/``apply_transform``; and the
                              batch steps the iterators call: ``draw_batch_params`` and ``affine_matrices``,
                              then ``augment_batch`` = ``transform_batch`` -> ``standardize_batch``
params.py                     drawing Keras's random parameters for a batch from a ``torch.Generator``
kernels.py                    matrices, the one resample per batch, channel shift, brightness, standardisation
iterators.py                  which rows form batch ``i`` of epoch ``e``; moving them to the device; labels
===========================  ===============================================================================

Beyond Keras's arguments there is one: ``geometry='keras'`` (default) rotates, shears and zooms about
keras-preprocessing 1.1.2's centre ``(h/2 + 0.5, w/2 + 0.5)``, one pixel off the true centre;
``geometry='exact'`` uses the true centre ``((h-1)/2, (w-1)/2)``.
"""
from __future__ import annotations

import inspect
import warnings

import numpy as np
import torch

from kerasish import backend
from kerasish.preprocessing.image import kernels
from kerasish.preprocessing.image.iterators import (DataFrameIterator, DirectoryIterator, NumpyArrayIterator,
                                                    require_pandas)
from kerasish.preprocessing.image.params import (ShiftRange, TransformRanges, draw_transform_params,
                                                 params_from_keras_dict, params_to_keras_dicts, parse_zoom_range)
from kerasish.training.arguments import describe_unknown_kwargs
from kerasish.training.data_adapters.order import new_seed
from kerasish.utils.validation import check_number, check_number_pair, did_you_mean

GEOMETRIES = kernels.CENTERS
# The attributes get_random_transform reads.
_RANGE_ATTRIBUTES = frozenset({"rotation_range", "height_shift_range", "width_shift_range", "shear_range", "zoom_range",
                               "horizontal_flip", "vertical_flip", "channel_shift_range", "brightness_range"})
# Feature-wise options and the statistic each needs from fit(), in standardize's order.
_FEATUREWISE = (("featurewise_center", "mean"), ("featurewise_std_normalization", "std"),
                ("zca_whitening", "principal_components"))
# Images per kernel call in fit(augment=True).
_FIT_CHUNK = 256
# flow_from_dataframe keywords keras-preprocessing 1.1.2 accepts in **kwargs with a DeprecationWarning.
_DEPRECATED_DATAFRAME_KWARGS = ("has_ext", "sort", "drop_duplicates")


def _check_numeric_arguments(arguments: dict) -> None:
    """Issue 15: every numeric argument is checked here, at construction, rather than failing (or silently
    drawing nonsense such as negative zoom factors) at the first batch. keras-preprocessing 1.1.2's own errors
    (data_format, validation_split, zoom_range's and brightness_range's structure) are raised before, with its
    wording."""
    owner = "ImageDataGenerator"
    # K231 multiplies by `rescale` when it is truthy: 0 and None both mean no rescaling.
    check_number(arguments["rescale"], "rescale", owner, allow_none=True)
    for name in ("rotation_range", "shear_range", "channel_shift_range", "cval"):
        check_number(arguments[name], name, owner)  # drawn from U(-r, r): the sign does not matter
    check_number(arguments["zca_epsilon"], "zca_epsilon", owner, low=0)
    for name in ("width_shift_range", "height_shift_range"):
        ShiftRange.parse(arguments[name], f"{owner}: argument `{name}`")
        if any(not np.isfinite(v) for v in np.ravel(np.asarray(arguments[name], dtype=np.float64))):
            raise ValueError(f"{owner}: argument `{name}` must hold finite numbers; received {arguments[name]!r}.")
    zoom = parse_zoom_range(arguments["zoom_range"])
    if not all(np.isfinite(zoom)) or min(zoom) <= 0:
        raise ValueError(f"{owner}: argument `zoom_range` must give zoom factors > 0: a number in [0, 1) (factors "
                         f"drawn from [1 - z, 1 + z]) or a pair [lower, upper] of factors > 0; received "
                         f"{arguments['zoom_range']!r}, i.e. factors [{zoom[0]:g}, {zoom[1]:g}].")
    if arguments["brightness_range"] is not None:
        check_number_pair(arguments["brightness_range"], "brightness_range", owner, low=0)


class ImageDataGenerator:
    """Generate batches of image data with real-time data augmentation (Keras 2 API; see the module docstring).

    ``data_format=None`` and ``dtype=None`` take ``backend.image_data_format()`` and ``backend.floatx()``, as
    Keras 2's wrapper does.
    """

    def __init__(self, featurewise_center: bool = False, samplewise_center: bool = False,
                 featurewise_std_normalization: bool = False, samplewise_std_normalization: bool = False,
                 zca_whitening: bool = False, zca_epsilon: float = 1e-6, rotation_range=0, width_shift_range=0.,
                 height_shift_range=0., brightness_range=None, shear_range=0., zoom_range=0.,
                 channel_shift_range=0., fill_mode: str = "nearest", cval=0., horizontal_flip: bool = False,
                 vertical_flip: bool = False, rescale=None, preprocessing_function=None, data_format=None,
                 validation_split: float = 0.0, interpolation_order: int = 1, dtype=None, geometry: str = "keras"):
        data_format = backend.image_data_format() if data_format is None else data_format
        if data_format not in ("channels_last", "channels_first"):
            raise ValueError('`data_format` should be `"channels_last"` (channel after row and column) or '
                             f'`"channels_first"` (channel before row and column). Received: {data_format}')
        validation_split = check_number(validation_split, "validation_split", "ImageDataGenerator", allow_none=True)
        if validation_split and not 0 < validation_split < 1:
            raise ValueError(f"`validation_split` must be strictly between 0 and 1.  Received: {validation_split}")
        if fill_mode not in kernels.FILL_MODES:
            raise ValueError(f"fill_mode: expected one of {kernels.FILL_MODES}; received {fill_mode!r}."
                             f"{did_you_mean(fill_mode, kernels.FILL_MODES)}")
        if interpolation_order not in range(6) or isinstance(interpolation_order, bool):
            raise ValueError("interpolation_order: expected a spline order 0-5 (1 = bilinear, 0 = nearest); "
                             f"received {interpolation_order!r}.")
        if geometry not in GEOMETRIES:
            raise ValueError(f"geometry: expected 'keras' (keras-preprocessing 1.1.2's centre, h/2 + 0.5) or 'exact' "
                             f"(the true centre, (h-1)/2); received {geometry!r}.")
        if brightness_range is not None and (not isinstance(brightness_range, (tuple, list))
                                             or len(brightness_range) != 2):
            raise ValueError(f"`brightness_range should be tuple or list of two floats. Received: {brightness_range}")
        _check_numeric_arguments(locals())
        self.featurewise_center = featurewise_center
        self.samplewise_center = samplewise_center
        self.featurewise_std_normalization = featurewise_std_normalization
        self.samplewise_std_normalization = samplewise_std_normalization
        self.zca_whitening = zca_whitening
        self.zca_epsilon = zca_epsilon
        self.rotation_range = rotation_range
        self.width_shift_range = width_shift_range
        self.height_shift_range = height_shift_range
        self.shear_range = shear_range
        self.zoom_range = list(parse_zoom_range(zoom_range))
        self.channel_shift_range = channel_shift_range
        self.fill_mode = fill_mode
        self.cval = cval
        self.horizontal_flip = horizontal_flip
        self.vertical_flip = vertical_flip
        self.rescale = rescale
        self.preprocessing_function = preprocessing_function
        self.dtype = np.dtype(dtype or backend.floatx()).name
        self.interpolation_order = interpolation_order
        self.geometry = geometry
        self.data_format = data_format
        if data_format == "channels_first":
            self.channel_axis, self.row_axis, self.col_axis = 1, 2, 3
        else:
            self.channel_axis, self.row_axis, self.col_axis = 3, 1, 2
        self._validation_split = validation_split
        self.brightness_range = brightness_range
        self.mean = None
        self.std = None
        self.principal_components = None
        self._device_constants: dict = {}

        if zca_whitening:
            if not featurewise_center:
                self.featurewise_center = True
                warnings.warn("This ImageDataGenerator specifies `zca_whitening`, which overrides setting of "
                              "`featurewise_center`.", stacklevel=2)
            if featurewise_std_normalization:
                self.featurewise_std_normalization = False
                warnings.warn("This ImageDataGenerator specifies `zca_whitening` which overrides setting of"
                              "`featurewise_std_normalization`.", stacklevel=2)
        if featurewise_std_normalization and not featurewise_center:
            self.featurewise_center = True
            warnings.warn("This ImageDataGenerator specifies `featurewise_std_normalization`, which overrides "
                          "setting of `featurewise_center`.", stacklevel=2)
        if samplewise_std_normalization and not samplewise_center:
            self.samplewise_center = True
            warnings.warn("This ImageDataGenerator specifies `samplewise_std_normalization`, which overrides "
                          "setting of `samplewise_center`.", stacklevel=2)

    # ------------------------------------------------------------------ flows
    def flow(self, x, y=None, batch_size: int = 32, shuffle: bool = True, sample_weight=None, seed=None,
             save_to_dir=None, save_prefix: str = "", save_format: str = "png", subset=None) -> NumpyArrayIterator:
        """Batches of augmented ``x`` (rank 4, or ``(images, misc)``) with ``y`` and ``sample_weight``.
        ``subset='validation'`` takes the FIRST ``validation_split`` of the rows, ``'training'`` the rest."""
        return NumpyArrayIterator(x, y, self, batch_size=batch_size, shuffle=shuffle, sample_weight=sample_weight,
                                  seed=seed, data_format=self.data_format, save_to_dir=save_to_dir,
                                  save_prefix=save_prefix, save_format=save_format, subset=subset, dtype=self.dtype)

    def flow_from_directory(self, directory, target_size=(256, 256), color_mode: str = "rgb", classes=None,
                            class_mode: str | None = "categorical", batch_size: int = 32, shuffle: bool = True,
                            seed=None, save_to_dir=None, save_prefix: str = "", save_format: str = "png",
                            follow_links: bool = False, subset=None,
                            interpolation: str = "nearest") -> DirectoryIterator:
        """Batches of augmented images read from ``directory/<class>/`` (see ``DirectoryIterator``)."""
        return DirectoryIterator(directory, self, target_size=target_size, color_mode=color_mode, classes=classes,
                                 class_mode=class_mode, data_format=self.data_format, batch_size=batch_size,
                                 shuffle=shuffle, seed=seed, save_to_dir=save_to_dir, save_prefix=save_prefix,
                                 save_format=save_format, follow_links=follow_links, subset=subset,
                                 interpolation=interpolation, dtype=self.dtype)

    def flow_from_dataframe(self, dataframe, directory=None, x_col: str = "filename", y_col="class",
                            weight_col=None, target_size=(256, 256), color_mode: str = "rgb", classes=None,
                            class_mode: str | None = "categorical", batch_size: int = 32, shuffle: bool = True,
                            seed=None, save_to_dir=None, save_prefix: str = "", save_format: str = "png",
                            subset=None, interpolation: str = "nearest", validate_filenames: bool = True,
                            **kwargs) -> DataFrameIterator:
        """Batches of augmented images whose paths are in a pandas DataFrame (needs pandas).

        ``**kwargs`` takes the deprecated ``has_ext``, ``sort`` and ``drop_duplicates``, which keras-preprocessing
        1.1.2 accepts with a DeprecationWarning and ignores; any other keyword is ignored too (keras-preprocessing
        drops it silently), with a warning naming it, so that a misspelt argument does not go unnoticed."""
        require_pandas("flow_from_dataframe")
        unknown = [key for key in kwargs if key not in _DEPRECATED_DATAFRAME_KWARGS]
        if unknown:
            warnings.warn(f"flow_from_dataframe: unexpected keyword argument(s) "
                          f"{describe_unknown_kwargs(unknown, _dataframe_parameters())} are ignored (keras-preprocessing "
                          "1.1.2 ignores them too). Check their spelling.", stacklevel=2)
        if "has_ext" in kwargs:
            warnings.warn("has_ext is deprecated, filenames in the dataframe have to match the exact filenames in "
                          "disk.", DeprecationWarning, stacklevel=2)
        if "sort" in kwargs:
            warnings.warn("sort is deprecated, batches will be created in the same order than the filenames "
                          "provided if shuffle is set to False.", DeprecationWarning, stacklevel=2)
        if class_mode == "other":
            warnings.warn('`class_mode` "other" is deprecated, please use `class_mode` "raw".', DeprecationWarning,
                          stacklevel=2)
            class_mode = "raw"
        if "drop_duplicates" in kwargs:
            warnings.warn("drop_duplicates is deprecated, you can drop duplicates by using the "
                          "pandas.DataFrame.drop_duplicates method.", DeprecationWarning, stacklevel=2)
        return DataFrameIterator(dataframe, directory, self, x_col=x_col, y_col=y_col, weight_col=weight_col,
                                 target_size=target_size, color_mode=color_mode, classes=classes,
                                 class_mode=class_mode, data_format=self.data_format, batch_size=batch_size,
                                 shuffle=shuffle, seed=seed, save_to_dir=save_to_dir, save_prefix=save_prefix,
                                 save_format=save_format, subset=subset, interpolation=interpolation,
                                 dtype=self.dtype, validate_filenames=validate_filenames)

    # ------------------------------------------------------------------ Keras's per-image API
    def get_random_transform(self, img_shape, seed=None) -> dict:
        """Random parameters for one image of shape ``img_shape`` (Keras's dict; see ``params.py``). With
        ``seed`` the draw is reproducible; without, it comes from torch's global generator."""
        generator = torch.Generator().manual_seed(int(seed) if seed is not None else new_seed())
        height, width = img_shape[self.row_axis - 1], img_shape[self.col_axis - 1]
        batch = draw_transform_params(self._ranges(), 1, height, width, generator)
        return params_to_keras_dicts(batch)[0]

    def apply_transform(self, x, transform_parameters: dict) -> np.ndarray:
        """Applies Keras's parameter dict to one image (rank 3, NumPy): affine resample, channel shift, flips,
        brightness, in keras-preprocessing 1.1.2's order. Floating images keep their dtype; others come back
        in the generator's ``dtype``."""
        x = np.asarray(x)
        if x.ndim != 3:
            raise ValueError(f"apply_transform: expected a single image of rank 3; got shape {x.shape}.")
        dtype = x.dtype if x.dtype.kind == "f" else np.dtype(self.dtype)
        image = torch.from_numpy(np.array(x, dtype=_compute_dtype(dtype)))[None]
        batch = params_from_keras_dict(transform_parameters)
        # resample_needed=None: look at the parameters; like Keras, no resample when there is nothing to resample.
        out = kernels.apply_transforms(image, batch, resample_needed=None, **self._kernel_options())
        return out[0].numpy().astype(dtype, copy=False)

    def random_transform(self, x, seed=None) -> np.ndarray:
        """A randomly transformed copy of one image."""
        return self.apply_transform(x, self.get_random_transform(np.shape(x), seed))

    def standardize(self, x):
        """Applies the normalisation configuration to ``x`` (an image or a batch, NumPy): preprocessing_function,
        rescale, sample-wise statistics (over all of ``x``, as Keras computes them), feature-wise statistics,
        ZCA. Like Keras, a writable floating-point ``x`` is changed in place (and returned)."""
        if self.preprocessing_function:
            x = self._preprocessed(x, same_shape=False)
        array = np.asarray(x)
        dtype = array.dtype if array.dtype.kind == "f" else np.dtype(self.dtype)
        tensor = torch.from_numpy(np.array(array, dtype=_compute_dtype(dtype)))
        result = self._standardize_tensor(tensor[None])[0].numpy().astype(dtype, copy=False)
        if isinstance(x, np.ndarray) and x.dtype == result.dtype and x.shape == result.shape and x.flags.writeable:
            x[...] = result
            return x
        return result

    # ------------------------------------------------------------------ fit
    def fit(self, x, augment: bool = False, rounds: int = 1, seed=None) -> None:
        """Computes the feature-wise statistics (``mean``, ``std``, ``principal_components``) of ``x`` (rank 4),
        after ``rescale`` and, with ``augment``, on ``rounds`` randomly augmented copies of it."""
        x = np.asarray(x, dtype=self.dtype)
        if x.ndim != 4:
            raise ValueError(f"Input to `.fit()` should have rank 4. Got array with shape: {x.shape}")
        if x.shape[self.channel_axis] not in (1, 3, 4):
            warnings.warn(f'Expected input to be images (as Numpy array) following the data format convention '
                          f'"{self.data_format}" (channels on axis {self.channel_axis}), i.e. expected either 1, 3 '
                          f"or 4 channels on axis {self.channel_axis}. However, it was passed an array with shape "
                          f"{x.shape} ({x.shape[self.channel_axis]} channels).", stacklevel=2)
        x = np.copy(x)
        if self.rescale:
            x *= self.rescale  # since keras-preprocessing 1.1.1 the statistics are of the rescaled data
        if augment:
            generator = torch.Generator().manual_seed(int(seed) if seed is not None else new_seed())
            augmented = []
            for _ in range(rounds):
                for start in range(0, len(x), _FIT_CHUNK):
                    chunk = torch.from_numpy(x[start:start + _FIT_CHUNK])
                    params = self.draw_batch_params(len(chunk), chunk.shape[1:], generator)
                    augmented.append(self.transform_batch(chunk, params).numpy().astype(self.dtype, copy=False))
            x = np.concatenate(augmented) if augmented else x[:0]
        broadcast = [1, 1, 1]
        broadcast[self.channel_axis - 1] = x.shape[self.channel_axis]
        image_axes = (0, self.row_axis, self.col_axis)
        if self.featurewise_center:
            self.mean = np.reshape(np.mean(x, axis=image_axes), broadcast)
            x -= self.mean
        if self.featurewise_std_normalization:
            self.std = np.reshape(np.std(x, axis=image_axes), broadcast)
            x /= self.std + kernels.STD_EPSILON
        if self.zca_whitening:
            from scipy import linalg

            flat = np.reshape(x, (len(x), -1))
            sigma = flat.T @ flat / len(flat)
            u, s, _ = linalg.svd(sigma)
            inverse_sqrt = 1.0 / np.sqrt(s[np.newaxis] + self.zca_epsilon)
            self.principal_components = (u * inverse_sqrt) @ u.T

    # ------------------------------------------------------------------ batch steps (the iterators' path)
    def augment_batch(self, x: torch.Tensor, params: dict, matrices=None) -> torch.Tensor:
        """A raw batch ``(N, ...)`` in the Keras layout (any dtype, any device) -> augmented with ``params``
        (``draw_batch_params``; ``matrices``: their ``affine_matrices`` if already made) and standardised."""
        x = x.to(_torch_compute_dtype(self.dtype))
        return self.standardize_batch(self.transform_batch(x, params, matrices=matrices))

    def draw_batch_params(self, n: int, image_shape, generator: torch.Generator) -> dict:
        """Keras's random parameters for ``n`` images of shape ``image_shape`` (no batch axis): ``(n,)`` CPU
        tensors."""
        height, width = image_shape[self.row_axis - 1], image_shape[self.col_axis - 1]
        return draw_transform_params(self._ranges(), n, height, width, generator)

    def affine_matrices(self, params: dict, image_shape):
        """The ``(N, 3, 3)`` sampling matrices of ``params`` for images of ``image_shape`` (NumPy when the
        parameters are on the host), or ``None`` when the arguments configure no rotation/shift/shear/zoom."""
        if not self._ranges().has_affine:
            return None
        height, width = image_shape[self.row_axis - 1], image_shape[self.col_axis - 1]
        return kernels.affine_matrices(kernels.host_params(params), height, width, center=self.geometry)

    def transform_batch(self, x: torch.Tensor, params: dict, matrices=None) -> torch.Tensor:
        """``apply_transform`` for a batch ``(N, ...)`` of floats. Without a rotation, shift, shear or zoom in
        the arguments the batch is not resampled (flips reverse axes)."""
        return kernels.apply_transforms(x, params, resample_needed=self._ranges().has_affine, matrices=matrices,
                                        **self._kernel_options())

    def _kernel_options(self) -> dict:
        return dict(channels_first=self.data_format == "channels_first", fill_mode=self.fill_mode, cval=self.cval,
                    order=self.interpolation_order, center=self.geometry)

    def standardize_batch(self, x: torch.Tensor) -> torch.Tensor:
        """``standardize`` for a batch, each image on its own (the iterators' per-image Keras semantics);
        ``preprocessing_function`` is called on each image as NumPy, on the host, as Keras calls it."""
        if self.preprocessing_function:
            host = x.detach().cpu().numpy()
            out = np.empty(host.shape, dtype=host.dtype)
            for i, image in enumerate(host):
                out[i] = self._preprocessed(image)
            x = torch.from_numpy(out).to(x.device)
        return self._standardize_tensor(x)

    # ------------------------------------------------------------------ helpers
    def _preprocessed(self, image: np.ndarray, same_shape: bool = True):
        """``preprocessing_function(image)``, which Keras 2.3.1 documents as returning "a Numpy tensor with the
        same shape": None (an in-place function without ``return``) would become NaN images, so it is an error;
        so is another shape where the result fills a batch (``same_shape``)."""
        result = self.preprocessing_function(image)
        if result is None:
            raise ValueError(f"ImageDataGenerator: preprocessing_function returned None for an image of shape "
                             f"{np.shape(image)}; it must return the processed image, a NumPy array of the same "
                             "shape (add `return x` to a function that changes the image in place).")
        if same_shape and np.shape(result) != np.shape(image):
            raise ValueError(f"ImageDataGenerator: preprocessing_function returned an array of shape "
                             f"{np.shape(result)} for an image of shape {np.shape(image)}; it must return an array "
                             "of the same shape (resize images with target_size or before the generator).")
        return result

    def _standardize_tensor(self, x: torch.Tensor) -> torch.Tensor:
        fitted = {}
        for flag, attribute in _FEATUREWISE:
            if not getattr(self, flag):
                continue
            value = getattr(self, attribute)
            if value is None:
                warnings.warn(f"This ImageDataGenerator specifies `{flag}`, but it hasn't been fit on any training "
                              "data. Fit it first by calling `.fit(numpy_data)`.", stacklevel=3)
            else:
                fitted[attribute] = self._device_constant(attribute, value, x)
        return kernels.standardize(x, rescale=self.rescale, samplewise_center=self.samplewise_center,
                                   samplewise_std_normalization=self.samplewise_std_normalization, **fitted)

    def _device_constant(self, name: str, value, like: torch.Tensor) -> torch.Tensor:
        """``value`` as a tensor on ``like``'s device and dtype, copied once per (array, device, dtype): the
        ZCA matrix of 32x32x3 images is 37 MB. Assigning a new array to the attribute refreshes the copy."""
        if like.device.type == "cpu" and isinstance(value, np.ndarray) and value.dtype == _numpy_dtype(like.dtype):
            return torch.from_numpy(value)  # shares memory: no copy, no cache needed
        key = (name, like.device, like.dtype)
        cached = self._device_constants.get(key)
        if cached is not None and cached[0] is value:
            return cached[1]
        tensor = torch.as_tensor(np.asarray(value), dtype=like.dtype).to(like.device)
        self._device_constants[key] = (value, tensor)
        return tensor

    def _ranges(self) -> TransformRanges:
        # Keras reads these attributes at draw time, so assigning e.g. ``datagen.rotation_range = 10`` after
        # construction takes effect: __setattr__ drops the parsed copy whenever one of them is assigned.
        ranges = self.__dict__.get("_parsed_ranges")
        if ranges is None:
            ranges = TransformRanges(
                rotation_range=float(self.rotation_range or 0),
                height_shift=ShiftRange.parse(self.height_shift_range, "height_shift_range"),
                width_shift=ShiftRange.parse(self.width_shift_range, "width_shift_range"),
                shear_range=float(self.shear_range or 0),
                zoom_range=parse_zoom_range(list(self.zoom_range)),
                horizontal_flip=bool(self.horizontal_flip), vertical_flip=bool(self.vertical_flip),
                channel_shift_range=float(self.channel_shift_range or 0),
                brightness_range=None if self.brightness_range is None else (float(self.brightness_range[0]),
                                                                             float(self.brightness_range[1])))
            self.__dict__["_parsed_ranges"] = ranges
        return ranges

    def __setattr__(self, name, value):
        if name in _RANGE_ATTRIBUTES:
            self.__dict__.pop("_parsed_ranges", None)
        super().__setattr__(name, value)

    def __getstate__(self):
        state = self.__dict__.copy()
        state["_device_constants"] = {}
        return state


def _dataframe_parameters() -> list[str]:
    names = inspect.signature(ImageDataGenerator.flow_from_dataframe).parameters
    return [name for name in names if name not in ("self", "kwargs")] + list(_DEPRECATED_DATAFRAME_KWARGS)


def _compute_dtype(dtype) -> np.dtype:
    return np.dtype(np.float64) if np.dtype(dtype) == np.float64 else np.dtype(np.float32)


def _torch_compute_dtype(dtype: str) -> torch.dtype:
    return torch.float64 if dtype == "float64" else torch.float32


def _numpy_dtype(dtype: torch.dtype) -> np.dtype:
    return np.dtype(str(dtype).replace("torch.", ""))
