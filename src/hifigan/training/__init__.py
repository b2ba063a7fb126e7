"""Training, one idea per module:

- options.py: TrainOptions (how a run is carried out), TrainJob (a whole job), the precisions; no torch;
- registry.py: the parts by name (discriminators, generator loss terms) and building them with their config
  arguments;
- losses.py: the objectives (least-squares GAN, feature matching, mel L1, the optional MR-STFT loss) and the
  generator loss terms;
- state.py: TrainingState (models, optimizers, schedulers, position, RNG), its checkpoint payload, restoring it,
  starting it from existing weights (--init-from);
- step.py: train_step(state, batch, options), the D step then the G step, and the non-finite-step policy;
- trainer.py: Trainer, a run put together, and its loop (limits, signals, interval logging, validation, saving);
- data_parallel.py: the processes of a torchrun job (DDP) and each one's share of the data (datasets, loader);
- reporting.py: console, progress bar, TensorBoard + JSONL, validation on the held-out clips, mel figures;
- job.py: train(TrainJob), the library behind `hifigan train`: config and data resolution, resume, init, report.
- resumed_config.py: a --config given to a resumed run must be its own config (else one line naming the keys);

Nothing is imported here: importing one module of the package loads only what that module needs.
"""
