"""Keras 2.3.1 ``keras.engine.saving``: saving and loading whole models, and models from configs
(kerasish/models/__init__.py; the file formats are in kerasish/saving.py)."""
from kerasish.models import load_model, model_from_config, model_from_json, model_from_yaml, save_model

__all__ = ["save_model", "load_model", "model_from_config", "model_from_json", "model_from_yaml"]
