"""Keras 2.3.1 ``keras.engine.saving``: saving and loading whole models, models from configs
(kerasish/models/__init__.py; the file formats are in kerasish/saving.py), and Keras's functions over the groups
of HDF5 files and ``pickle_model``/``unpickle_model`` (kerasish/saving_h5.py)."""
from kerasish.models import load_model, model_from_config, model_from_json, model_from_yaml, save_model
from kerasish.saving_h5 import (HDF5_OBJECT_HEADER_LIMIT, load_attributes_from_hdf5_group, load_weights_from_hdf5_group,
                                load_weights_from_hdf5_group_by_name, pickle_model, preprocess_weights_for_loading,
                                save_attributes_to_hdf5_group, save_weights_to_hdf5_group, unpickle_model)

__all__ = ["save_model", "load_model", "model_from_config", "model_from_json", "model_from_yaml",
           "save_attributes_to_hdf5_group", "load_attributes_from_hdf5_group", "save_weights_to_hdf5_group",
           "load_weights_from_hdf5_group", "load_weights_from_hdf5_group_by_name", "preprocess_weights_for_loading",
           "pickle_model", "unpickle_model", "HDF5_OBJECT_HEADER_LIMIT"]
