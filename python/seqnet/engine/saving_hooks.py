"""Where the engine reaches seqnet.saving without importing it (imports point one way:
engine <- layers <- models <- saving). seqnet.saving registers itself here on import, and
``import seqnet`` always imports it, so Model.save, load_weights, to_json and from_config
find it."""
_SAVING = []


def register(module):
    """Called once by seqnet.saving with itself."""
    _SAVING[:] = [module]


def get():
    """The saving module: save_model, save_weights, load_weights, model_to_json,
    functional_from_config, sequential_from_config, layer_from_config."""
    if not _SAVING:
        raise RuntimeError("seqnet.saving is not loaded; `import seqnet` first")
    return _SAVING[0]
