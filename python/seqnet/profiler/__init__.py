"""seqnet.profiler: where the time of a training step goes, layer by layer.

    from seqnet.profiler import profile_model
    profile = profile_model(model, x, y, batch_size=32, steps=20)
    profile.summary()            # the table: ms per layer and direction, share, FLOPs, GFLOP/s, % of peak
    profile.rows                 # the numbers (ProfileRow)
    fma_peak()                   # the FP32 multiply-add peak of the engine's threads now, GFLOP/s

``bench/profile_model.py model.h5`` does the same for a saved model from the command line.
Not part of the Keras API.
"""
from seqnet.profiler.flops import layer_flops
from seqnet.profiler.profile import fma_peak, profile_model
from seqnet.profiler.report import ModelProfile, ProfileRow

__all__ = ["profile_model", "ModelProfile", "ProfileRow", "layer_flops", "fma_peak"]
