"""Sweeps: train every grid point (or sampled setting) for several seeds, on Optuna.

A sweep lives in one directory::

    SWEEP_DIR/
      sweep.yaml        what is swept: the base TrainConfig, the grid, search, seeds, selection
      optuna.db         the Optuna storage (SQLite by default; or --storage URL elsewhere)
      runs/trial-0003-seed1/   one run directory per trial and seed
      results.csv       one row per trial
      summary.csv       mean +- std over seeds per setting
      figures/          the selection metric against the swept values, with error bars
      final/            the chosen setting retrained for --final-epochs, evaluated once on test
      report.md report.html

**Exactly once, resumable, shared.** The grid (every point, with all seeds inside one trial) is
enqueued once into the Optuna study; workers pop waiting trials from the storage (one trial
goes to one worker), so with many workers each point still runs exactly once. (Optuna's own
``GridSampler`` may run a point twice when workers run concurrently, as its documentation says;
enqueuing avoids that.) Random and TPE search use Optuna's ``RandomSampler`` and
``TPESampler`` over the same value lists, up to ``--trials`` trials. Workers send heartbeats: a
worker that is killed leaves its trial running without heartbeat; once stale, it is marked
failed and re-enqueued (``RetryFailedTrialCallback``), so it is rerun. Ctrl-C re-enqueues the
interrupted trial at once. Starting the sweep again skips finished trials.

**Chosen on validation only.** Each trial reports the validation metric (mean over its seeds
that did not fail); runs that diverge (NaN loss) or stay at chance level are flagged as failed
and never selected or averaged. The test set is not evaluated during the sweep at all: only
the final retrained setting is evaluated on it, once.

Modules: :mod:`~.grid` (``--grid`` axes), :mod:`~.spec` (what is swept, ``sweep.yaml``),
:mod:`~.storage` (the Optuna storage and study), :mod:`~.trial` (one setting over its seeds),
:mod:`~.worker` (pop and train waiting trials), :mod:`~.results` (the choice and the final
test), :mod:`~.report` (tables, figure, report.md), :mod:`~.runner` (all of it, end to end).
"""
