"""Training, one idea per module; docs/design.md's package layout says what each one owns (a test keeps that list
whole). Where to start reading: job.py (`train(TrainJob)`, the library behind `hifigan train`; the job's options in
options.py), trainer.py (`Trainer`: a run put together, and its loop), step.py (one D step then G step over the
TrainingState of state.py), losses.py and registry.py (the objectives and the parts by name).

Nothing is imported here: importing one module of the package loads only what that module needs.
"""
