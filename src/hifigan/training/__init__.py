"""Training, in parts: state.py (models, optimizers, position; checkpoint payload), step.py (the GAN step as a
function over the state), loop.py (limits, signals, epochs), parts.py (discriminators by name), losses.py
(objectives and generator loss terms by name), registry.py (building a part with its config arguments), trainer.py
(a run put together), options.py (TrainOptions), command.py (`hifigan train`), init.py (--init-from), validation.py,
batches.py, checkpoint_files.py, run_log.py, distributed.py, rng.py, stop_signal.py, nonfinite.py.

Nothing is imported here: importing one module of the package loads only what that module needs.
"""
