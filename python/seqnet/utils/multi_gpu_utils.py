"""multi_gpu_model (Keras 2.2's ``keras.utils.multi_gpu_model``): not available in seqnet.

Keras replicated a model on several GPUs of one machine, split each batch between the
replicas and merged their outputs on the CPU. seqnet runs on the CPU, where one model
already uses every core (its kernels are OpenMP-parallel), so replicas in one process
would only compete for the same cores. Its data parallelism works across processes and
machines instead: ``seqnet.distribute`` (Horovod's API over MPI). Raising, rather than
returning the model unchanged, keeps a script from silently training with a batch that
is not the one its author meant.
"""

_HOW = """multi_gpu_model: seqnet runs on the CPU and one model already uses every core, so it does \
not replicate models on devices (gpus={gpus!r}). Train data-parallel across processes and machines \
with seqnet.distribute instead:

    import seqnet.distribute as hvd
    hvd.init()
    model.compile(optimizer=hvd.DistributedOptimizer(optimizer), loss=...)
    model.fit(x, y, batch_size=per_process_batch, callbacks=[hvd.callbacks.BroadcastGlobalVariablesCallback(0)])

then run `mpiexec -n 4 python train.py` (`pip install seqnet[mpi]`). Each process trains on its \
slice of every global batch of 4 * per_process_batch samples, with the same result as one process \
with that batch; set OMP_NUM_THREADS to the cores per process."""


def multi_gpu_model(model, gpus=None, cpu_merge=True, cpu_relocation=False):
    """Raises ValueError explaining how to train data-parallel with seqnet.distribute
    (see this module's docstring for why seqnet has no multi-device replicas)."""
    raise ValueError(_HOW.format(gpus=gpus))
