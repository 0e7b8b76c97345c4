"""Models (``seqnet.models``): Model, Sequential, and the save/load entry points."""
from seqnet.engine.training import Model
from seqnet.models.sequential import Sequential
from seqnet.saving import load_model, model_from_config, model_from_json, save_model

__all__ = ["Model", "Sequential", "load_model", "save_model", "model_from_config", "model_from_json"]
