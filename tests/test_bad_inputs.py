"""The bad-input catalogue: every command, every class of mistake, one clear line, nothing written.

One table, :data:`CASES`: the command line a person types, the first words of the one-line
message that must answer it (after ``neuralab: error: ``), and the exit code. Every case runs
the real command line in process (``run_cli``) in a fresh working directory, and checks that

- the exit code is the expected one (2 for bad input) and stderr is exactly one line,
  ``neuralab: error: <the expected start>...``: no traceback, nothing from torch, and no
  warning that Python would show a user;
- no crash report was written (the top-level guard turns bugs into exit code 1 and a report);
- nothing was written or changed on disk: the working directory and the shared files of the
  catalogue (runs, archives, configs) are snapshot before and after, file by file.

Placeholders in a command line: ``{w}`` is the folder of prepared inputs (see :func:`world`: a
finished run, corrupt archives, unsafe checkpoints, malformed configs...), ``{t}`` the case's own
working directory. ``/sys/...`` is a place no one can write, not even root.

Adding a case: one line in :data:`CASES` (how, in CONTRIBUTING.md). Keep each fast: the error
must come before any training.
"""

from __future__ import annotations

import hashlib
import os
import shlex
import shutil
import warnings
from dataclasses import dataclass
from pathlib import Path

import pytest


@dataclass(frozen=True)
class Case:
    """One bad input: the command line, the start of its one-line message, the exit code."""

    id: str
    command: str  # as typed after `neuralab`, with {w} and {t} placeholders
    message: str  # the message after "neuralab: error: " starts with this ({w}, {t} filled in)
    code: int = 2
    env: tuple[tuple[str, str], ...] = ()  # environment variables set for this case
    lines: int = 1  # a spec error shows the spec and a caret under the mistake: 3 lines


def case(id: str, command: str, message: str, code: int = 2, lines: int = 1, **env: str) -> Case:
    return Case(id, command, message, code, tuple(env.items()), lines)


RUN = "{w}/run_mlp"  # a finished digits MLP run
SUMMARY = "summary 'conv(20,5) -> relu -> flatten -> fc(10)' -i 1x28x28"
PLAY = "playground --epochs 2 --n 40"
TRAIN = "train --data digits --model mlp --epochs 1 --device cpu --no-progress"
SWEEP = "sweep --data digits --model mlp"
STUDY = "study dropout --quick"
MEMORY = "needs about"
NO_WRITE = "cannot create run directory '/sys/"

CASES = [
    # --- summary -----------------------------------------------------------------------------
    case("summary-huge-conv", "summary 'conv(1000000000,3)' -i 3x32x32",
         "the spec 'conv(1000000000,3)' on input 3x32x32 needs about"),
    case("summary-huge-input", "summary resnet18 --input 3x100000x100000",
         "model resnet18 on input 3x100000x100000 needs about"),
    case("summary-huge-fc", "summary 'fc(10)' -i 100000000000",
         "the spec 'fc(10)' on input 100000000000 needs about"),
    case("summary-unknown-model", "summary resnt18 -i 3x32x32", "unknown model 'resnt18'; did you mean"),
    case("summary-unclosed-spec", "summary 'conv(20,5' -i 1x28x28",
         "bad spec at the end: expected ',' or ')' in the arguments of conv", lines=3),
    case("summary-bad-shape", "summary 'conv(20,5)' -i axb", "--input 'axb' is not a shape"),
    case("summary-zero-shape", "summary 'conv(20,5)' -i 0x28x28", "--input '0x28x28' has a zero size"),
    case("summary-kernel-too-big", "summary 'conv(20,50)' -i 1x28x28",
         "conv(20,50) (layer 1) gets 28x28 input: output would be 0x0; kernel 50"),
    case("summary-unwritable", SUMMARY + " -o /sys/x.txt",
         "--output '/sys/x.txt': cannot write in '/sys':"),
    case("summary-missing-folder", SUMMARY + " -o {t}/nodir/x.txt",
         "--output '{t}/nodir/x.txt': the folder '{t}/nodir' does not exist"),
    case("summary-output-is-dir", SUMMARY + " -o {w}", "--output '{w}': it is a directory"),
    case("summary-depth-zero", SUMMARY + " --depth 0", "Invalid value for '--depth'"),
    case("summary-factory-missing", "summary nosuchmodule:net -i 3", "cannot import 'nosuchmodule'"),
    case("summary-format", SUMMARY + " -f yaml", "Invalid value for '--format'"),
    case("summary-empty-model", "summary '' -i 3", "the model is empty"),
    case("summary-huge-batch", "summary resnet18 -i 3x224x224 --batch-size 100000",
         "model resnet18 on input 3x224x224 (a batch of 100,000) needs about"),
    # --- diagram -----------------------------------------------------------------------------
    case("diagram-unwritable", "diagram 'conv(2,3)' -i 1x8x8 -o /sys/x.png",
         "diagram file '/sys/x.png': cannot write in '/sys':"),
    case("diagram-missing-folder", "diagram 'conv(2,3)' -i 1x8x8 -o /nonexistent/dir/x.png",
         "diagram file '/nonexistent/dir/x.png': the folder '/nonexistent/dir' does not exist"),
    case("diagram-suffix", "diagram 'conv(2,3)' -i 1x8x8 -o {t}/x.txt",
         "diagram file '{t}/x.txt' has suffix '.txt'"),
    case("diagram-output-is-dir", "diagram 'conv(2,3)' -i 1x8x8 -o {w}/adir.png",
         "diagram file '{w}/adir.png': it is a directory"),
    case("diagram-huge-conv", "diagram 'conv(1000000000,3)' -i 3x32x32 -o {t}/x.png",
         "the spec 'conv(1000000000,3)' on input 3x32x32 needs about"),
    case("diagram-huge-input", "diagram resnet18 -i 3x100000x100000 -o {t}/x.png",
         "model resnet18 on input 3x100000x100000 needs about"),
    case("diagram-two-sizes", "diagram 'conv(2,3)' -i 8x8 -o {t}/x.png",
         "--input '8x8' has 2 sizes; expected 3 (CxHxW)"),
    case("diagram-max-blocks", "diagram 'conv(2,3)' -i 1x8x8 -o {t}/x.png --max-blocks 1",
         "Invalid value for '--max-blocks'"),
    # --- conv-matrix -------------------------------------------------------------------------
    case("conv-matrix-bad-input", "conv-matrix --input axb",
         "--input 'axb' is not a shape like 3x3 (HxW) or 3x64x64 (CxHxW)"),
    case("conv-matrix-negative-padding", "conv-matrix --input 3x3 --padding -1",
         "--padding '-1' must be >= 0"),
    case("conv-matrix-zero-kernel", "conv-matrix --input 3x3 --kernel 0", "--kernel '0' must be >= 1"),
    case("conv-matrix-bad-stride", "conv-matrix --input 3x3 --stride x",
         "--stride 'x' is not an integer or HxW pair"),
    case("conv-matrix-empty-output", "conv-matrix --input 3x3 --kernel 4",
         "kernel 4x4 (dilation 1x1) spans 4 input positions, more than the padded input"),
    case("conv-matrix-groups", "conv-matrix --input 4x5x5 --groups 3", "groups=3 must divide"),
    case("conv-matrix-nan-weight", "conv-matrix --input 3x3 --weights '[[1,nan],[2,3]]'",
         "--weights '[[1,nan],[2,3]]' has the entry 'nan'; entries must be finite numbers"),
    case("conv-matrix-weights-shape", "conv-matrix --input 3x3 --weights '[[1,2,3]]'",
         "--weights '[[1,2,3]]' has shape 1x3; expected k_h x k_w = 2x2"),
    case("conv-matrix-huge-matrix",
         "conv-matrix --input 64x256x256 --kernel 3 --padding 1 --out-channels 64",
         "A with 2,403,352,576 non-zeros (conv_parameter_counts gives the counts alone) needs "
         "about 53.7 GiB"),
    case("conv-matrix-huge-input", "conv-matrix --input 3x100000x100000",
         "the input 3x100000x100000 and its convolution needs about"),
    case("conv-matrix-symbolic-big", "conv-matrix --input 30x30 --symbolic",
         "symbolic writes one column per input pixel"),
    case("conv-matrix-show-dense", "conv-matrix --input 3x40x40 --out-channels 8 --show-dense",
         "show-dense: A is"),
    case("conv-matrix-channels", "conv-matrix --input 2x5x5 --in-channels 3",
         "--input '2x5x5' has 2 channels but --in-channels is 3"),
    # --- pool ----------------------------------------------------------------------------------
    case("pool-nan", "pool '[[1,nan],[2,3]]'",
         "MATRIX '[[1,nan],[2,3]]' has the entry 'nan'; entries must be finite numbers"),
    case("pool-inf", "pool '[[1,inf],[2,3]]'",
         "MATRIX '[[1,inf],[2,3]]' has the entry 'inf'; entries must be finite numbers"),
    case("pool-matlab-nan", "pool '1,nan;2,3'",
         "MATRIX '1,nan;2,3' has the entry 'nan'; entries must be finite numbers"),
    case("pool-ragged", "pool '1,2;3'", "MATRIX '1,2;3' has ragged rows"),
    case("pool-huge-window", "pool '[[1]]' --size 100000 --padding 50000",
         "pooling a 1x1 matrix with a 100000x100000 window (1 windows) needs about"),
    case("pool-op", "pool '[[1,2],[3,4]]' --op min", "pooling op 'min' is unknown"),
    case("pool-negative-padding", "pool '[[1,2],[3,4]]' --padding -1", "--padding '-1' must be >= 0"),
    case("pool-window-too-big", "pool '[[1,2],[3,4]]' --size 3",
         "the 3x3 window does not fit the 2x2 input"),
    case("pool-padding-over-half", "pool '[[1,2],[3,4]]' --size 2 --padding 2",
         "padding 2x2 is more than half the window 2x2"),
    case("pool-empty", "pool ''", "MATRIX is empty"),
    case("pool-letters", "pool 'a,b;c,d'", "MATRIX 'a,b;c,d' has the entry 'a', not a number"),
    case("pool-python-warning", "pool '[[1for]]'", "MATRIX '[[1for]]' has the entry '1for'"),
    case("logic-check-python-warning", "logic search XOR --check '[[1in 2]]'",
         "--check '[[1in 2]]' is neither a JSON file nor a list of candidates"),
    # --- padding -------------------------------------------------------------------------------
    case("padding-huge", "padding --input 100000x100000",
         "a padding table of 100000x100000 = 10,000,000,000 cells needs about"),
    case("padding-huge-padding", "padding --input 3x3 --padding 100000",
         "a padding table of 200003x200003"),
    case("padding-negative", "padding --padding -1", "--padding '-1' must be >= 0"),
    case("padding-one-size", "padding --input 5", "--input '5' has 1 sizes; expected 2 (HxW)"),
    case("padding-no-output", "padding --input 5x5 --kernel 9",
         "the 9x9 kernel does not fit the 5x5 input"),
    case("padding-zero-stride", "padding --stride 0", "--stride '0' must be >= 1"),
    case("padding-memory-limit", "--max-memory 1MB padding --input 200x200",
         "a padding table of 200x200 = 40,000 cells needs about 9.5 MiB of memory, more than "
         "the limit of 976.6 KiB"),
    # --- activations ---------------------------------------------------------------------------
    case("activations-unknown", "activations --plot relu,rleu -o {t}/a.png",
         "unknown activation 'rleu'"),
    case("activations-no-names", "activations --plot , -o {t}/a.png", "--plot ',' names no activation"),
    case("activations-unwritable", "activations --plot relu -o /sys/a.png",
         "--output '/sys/a.png': cannot write in '/sys':"),
    case("activations-missing-folder", "activations --plot relu -o {t}/nodir/a.png",
         "--output '{t}/nodir/a.png': the folder '{t}/nodir' does not exist"),
    case("activations-format", "activations -f xml", "Invalid value for '--format'"),
    case("activations-range", "activations --plot relu --range 4 -4 -o {t}/a.png", "--range 4 -4"),
    # --- logic ---------------------------------------------------------------------------------
    case("logic-eval-unclosed", "logic eval --w1 '[[1,2]' --w2 '[[1]]'", "--w1 '[[1,2]'"),
    case("logic-eval-nan", "logic eval --w1 '[[1,nan]]' --w2 '[[1]]'",
         "--w1 '[[1,nan]]' has the entry 'nan'"),
    case("logic-eval-shape", "logic eval --w1 '[[1,1],[1,1]]' --w2 '[[1,1,1]]'",
         "--w2 '[[1,1,1]]' has shape 1x3; expected outputs x hidden = 1x2"),
    case("logic-eval-activation", "logic eval --w1 '[[1,1]]' --w2 '[[1]]' --activation foo",
         "unknown activation 'foo'"),
    case("logic-eval-many-inputs", "logic eval --w1 '[[" + ",".join(["1"] * 17) + "]]' --w2 '[[1]]'",
         "--w1 has 17 columns (inputs); at most 16 are supported"),
    case("logic-check-missing", "logic search XOR --check {t}/missing.json",
         "--check file '{t}/missing.json' does not exist"),
    case("logic-check-malformed", "logic search XOR --check {w}/bad.json",
         "--check file '{w}/bad.json' is malformed"),
    case("logic-check-dir", "logic search XOR --check {w}/",
         "--check file '{w}' is a directory, expected a JSON file"),
    case("logic-search-target", "logic search XYZ",
         "unknown Boolean function of 2 inputs 'XYZ' (valid: A, A AND NOT B,"),
    case("logic-search-too-big", "logic search XOR --values -2,-1,0,1,2 --hidden 4 --bias",
         "the search space has"),
    case("logic-search-limit", "logic search XOR --limit -1", "--limit -1 must be >= 0"),
    case("logic-search-candidate", "logic search XOR --candidate '[[1,1]] | '", "candidate 1"),
    # --- gradients -----------------------------------------------------------------------------
    case("gradients-loss", "gradients --loss foo", "unknown loss 'foo'"),
    case("gradients-activation", "gradients --activation foo", "unknown activation 'foo'"),
    case("gradients-x-length", "gradients --x 1,2,3", "--x '1,2,3' has 3 entries; expected 2"),
    case("gradients-letters", "gradients --w1 abc", "--w1 'abc' has the entry 'abc', not a number"),
    case("gradients-nan-target", "gradients --y nan", "--y 'nan' has the entry 'nan'"),
    case("gradients-w2-shape", "gradients --w2 '[[1,1,1]]'",
         "--w2 '[[1,1,1]]' has shape 1x3; expected outputs x hidden = 1x2"),
    # --- perceptron ----------------------------------------------------------------------------
    case("perceptron-unknown-data", "perceptron fit --data foo", "unknown data set 'foo'"),
    case("perceptron-missing-csv", "perceptron fit --data {t}/missing.csv",
         "data file '{t}/missing.csv' does not exist (or use and, or, nand, xor)"),
    case("perceptron-data-dir", "perceptron fit --data {w}",
         "data file '{w}' is a directory, expected a CSV file"),
    case("perceptron-bad-csv", "perceptron fit --data {w}/bad_perceptron.csv",
         "{w}/bad_perceptron.csv: row 3"),
    case("perceptron-lr", "perceptron fit --lr 0", "lr 0.0 must be a positive number"),
    case("perceptron-max-iter", "perceptron fit --max-iter 0", "max_iter 0 must be at least 1"),
    case("perceptron-scale-letters", "perceptron scale --c 1,abc",
         "--c '1,abc' has the entry 'abc', not a number; write a list of numbers"),
    case("perceptron-scale-n", "perceptron scale --n-inputs 0", "n_inputs 0 must be at least 1"),
    case("perceptron-scale-huge", "perceptron scale --n-inputs 100000000000",
         "100,000,000,000 random inputs (--n-inputs) needs about"),
    case("perceptron-limit-letters", "perceptron sigmoid-limit --c 1,abc",
         "--c '1,abc' has the entry 'abc', not a number; write a list of numbers like '1,10,100'"),
    case("perceptron-limit-matrix", "perceptron sigmoid-limit --c '1,2;3,4'",
         "--c '1,2;3,4' has shape 2x2; expected a vector"),
    case("perceptron-b2-alone", "perceptron sigmoid-limit --w1 '[[1,1]]' --b2 1",
         "--b2 needs --w2"),
    case("perceptron-w2-shape", "perceptron scale --w1 '[[1,1]]' --w2 '[[1,2]]'",
         "--w2 '[[1,2]]' has shape 1x2; expected outputs x hidden = 1x1"),
    # --- playground ----------------------------------------------------------------------------
    case("playground-huge-n", "playground --n 1000000000",
         "a playground of n=1,000,000,000 points and hidden layers 4,2 needs about"),
    case("playground-huge-layers", "playground --hidden 100000,100000",
         "a playground of n=400 points and hidden layers 100000,100000 needs about"),
    case("playground-unknown-data", PLAY + " --data foo", "unknown toy data set 'foo'"),
    case("playground-missing-csv", PLAY + " --data csv:{t}/missing.csv",
         "data 'csv:{t}/missing.csv': the file '{t}/missing.csv' does not exist"),
    case("playground-csv-dir", PLAY + " --data csv:{w}",
         "data 'csv:{w}': the file '{w}' is a directory, expected a CSV file"),
    case("playground-bad-csv", PLAY + " --data csv:{w}/points_bad.csv", "csv:{w}/points_bad.csv line"),
    case("playground-activation", PLAY + " --activation foo", "unknown activation 'foo'"),
    case("playground-lr", PLAY + " --lr -1", "lr=-1.0 must be > 0"),
    case("playground-epochs", PLAY + " --epochs 0", "epochs=0 must be 1..100000"),
    case("playground-set-unknown", PLAY + " --set foo=1", "unknown PlaygroundConfig field 'foo'"),
    case("playground-set-number", PLAY + " --set lr=abc", "lr='abc' is not a number"),
    case("playground-set-form", PLAY + " --set noequals", "override 'noequals' is not of the form"),
    case("playground-config-missing", PLAY + " --config {t}/missing.yaml",
         "config file '{t}/missing.yaml' does not exist"),
    case("playground-config-dir", PLAY + " --config {w}",
         "config file '{w}' is a directory, expected a YAML or TOML file"),
    case("playground-config-syntax", PLAY + " --config {w}/bad.yaml",
         "config file '{w}/bad.yaml' cannot be parsed"),
    case("playground-config-list", PLAY + " --config {w}/list.yaml",
         "config file '{w}/list.yaml' must hold a mapping"),
    case("playground-config-binary", PLAY + " --config {w}/binary.yaml",
         "config file '{w}/binary.yaml' is not a UTF-8 text file"),
    case("playground-config-field", PLAY + " --config {w}/unknown_field.yaml",
         "unknown PlaygroundConfig field 'colour'"),
    case("playground-run-exists", PLAY + " --run-dir {w}/playground_run",
         "run directory '{w}/playground_run' already holds a run (config.yaml, metrics.csv); "
         "pass --overwrite to replace it or choose another --run-dir"),
    case("playground-run-is-file", PLAY + " --run-dir {w}/afile.txt",
         "run directory '{w}/afile.txt' is a file, expected a directory"),
    case("playground-run-unwritable", PLAY + " --run-dir /sys/neuralab-run", NO_WRITE),
    case("playground-overwrite-foreign", PLAY + " --run-dir {w}/foreign --overwrite",
         "run directory '{w}/foreign' holds files that neuralab did not write"),
    case("playground-compare-field", PLAY + " --compare foo=1,2",
         "unknown field to compare 'foo' (valid: activation,"),
    case("playground-compare-form", PLAY + " --compare hidden",
         "--compare 'hidden' is not of the form field=value,value,..."),
    case("playground-seeds", PLAY + " --compare lr=0.1,0.2 --seeds 0", "seeds=0 must be"),
    case("playground-memory-env", PLAY, "a playground of n=40 points", NEURALAB_MAX_MEMORY="1KB"),
    case("playground-memory-env-bad", PLAY, "NEURALAB_MAX_MEMORY 'lots' is not a size",
         NEURALAB_MAX_MEMORY="lots"),
    # --- experiment ----------------------------------------------------------------------------
    case("experiment-unknown", "experiment foo", "unknown experiment 'foo'"),
    case("experiment-set-unknown", "experiment initialization --quick --set foo=1",
         "unknown InitializationConfig field 'foo'"),
    case("experiment-set-type", "experiment initialization --quick --set seeds=abc",
         "seeds='abc' is not an integer"),
    case("experiment-seeds-zero", "experiment initialization --quick --seeds 0",
         "seeds=0 must be a positive integer"),
    case("experiment-run-exists", "experiment initialization --quick --run-dir {w}/playground_run",
         "run directory '{w}/playground_run' already holds a run"),
    case("experiment-run-unwritable", "experiment initialization --quick --run-dir /sys/e", NO_WRITE),
    case("experiment-run-is-file", "experiment initialization --quick --run-dir {w}/afile.txt",
         "run directory '{w}/afile.txt' is a file"),
    case("experiment-name-and-list", "experiment initialization --list",
         "give an experiment name or --list, not both"),
    case("experiment-overwrite-foreign",
         "experiment initialization --quick --run-dir {w}/foreign --overwrite",
         "run directory '{w}/foreign' holds files that neuralab did not write"),
    # --- train ---------------------------------------------------------------------------------
    case("train-npz-dir", "train --data npz:{w}", "npz file '{w}' is a directory, expected a .npz file"),
    case("train-npz-missing", "train --data npz:{t}/missing.npz",
         "npz file '{t}/missing.npz' does not exist"),
    case("train-npz-text", "train --data npz:{w}/text.npz",
         "npz file '{w}/text.npz' is not a valid .npz archive"),
    case("train-npz-object", "train --data npz:{w}/object.npz",
         "npz file '{w}/object.npz' is not a valid .npz archive: it holds object arrays"),
    case("train-npz-truncated", "train --data npz:{w}/truncated.npz",
         "npz file '{w}/truncated.npz' is not a valid .npz archive"),
    case("train-npz-keys", "train --data npz:{w}/keys.npz", "keys.npz: missing key(s)"),
    case("train-folder-file", "train --data folder:{w}/afile.txt",
         "folder data set '{w}/afile.txt' is a file"),
    case("train-unknown-data", "train --data foo", "unknown data set 'foo'"),
    case("train-offline-mnist", "train --data mnist", "data set 'mnist' not found under data"),
    case("train-unknown-model", "train --model foo", "unknown model 'foo'"),
    case("train-huge-spec", TRAIN.replace("mlp", "'spec:conv(1000000000,3)'"),
         "the spec 'conv(1000000000,3)' on input 1x8x8 needs about"),
    case("train-huge-image", TRAIN + " --image-size 100000", "1,437 images at 100000x100000 (image size 100000) needs about"),
    case("train-lr", "train --lr abc", "lr='abc' is not a number"),
    case("train-epochs", "train --epochs 0", "epochs"),
    case("train-optimizer", "train --optimizer foo", "unknown optimizer 'foo'"),
    case("train-set", "train --set foo=1", "unknown TrainConfig field 'foo'"),
    case("train-config-syntax", "train --config {w}/bad.yaml", "config file '{w}/bad.yaml' cannot be parsed"),
    case("train-run-exists", TRAIN + " --run-dir " + RUN,
         f"run directory '{RUN}' already holds a run (best.pt, config.yaml, figures, last.pt); "
         f"resume it with --resume {RUN}, pass --overwrite to replace it or choose another "
         "--run-dir"),
    case("train-run-is-file", TRAIN + " --run-dir {w}/afile.txt",
         "run directory '{w}/afile.txt' is a file, expected a directory"),
    case("train-run-unwritable", TRAIN + " --run-dir /sys/neuralab-run", NO_WRITE),
    case("train-overwrite-foreign", TRAIN + " --run-dir {w}/foreign --overwrite",
         "run directory '{w}/foreign' holds files that neuralab did not write"),
    case("train-resume-missing", "train --resume {t}/missing",
         "cannot resume: run directory '{t}/missing' does not exist"),
    case("train-resume-file", "train --resume {w}/afile.txt",
         "cannot resume: run directory '{w}/afile.txt' is a file"),
    case("train-resume-empty", "train --resume {w}/empty", "cannot resume: '{w}/empty' has no config.yaml"),
    case("train-resume-config", "train --resume " + RUN + " --lr 0.5 --no-progress",
         f"cannot resume '{RUN}' with a different config: lr: 0.003 -> 0.5"),
    case("train-resume-overwrite", "train --resume " + RUN + " --overwrite",
         "give --resume RUN_DIR or --overwrite, not both"),
    case("train-unsafe-weights", TRAIN.replace("mlp", "resnet18") + " --weights {w}/evil.pt",
         "weights file '{w}/evil.pt' holds Python objects other than tensors"),
    case("train-batch-size", "train --batch-size 0", "batch_size"),
    case("train-device", "train --device tpu", "unknown device 'tpu' (valid: auto, cpu, cuda, mps"),
    # --- evaluate ------------------------------------------------------------------------------
    case("evaluate-missing", "evaluate {t}/missing", "run directory '{t}/missing' does not exist"),
    case("evaluate-checkpoint-file", "evaluate " + RUN + "/best.pt",
         f"run directory '{RUN}/best.pt' is a file, expected a run directory"),
    case("evaluate-not-a-run", "evaluate {w}/empty", "run directory '{w}/empty' has no best.pt"),
    case("evaluate-foreign-checkpoint", "evaluate {w}/mixed",
         "checkpoint '{w}/mixed/best.pt' does not belong to the run in '{w}/mixed': model: "
         "'mlp' -> 'cnn'; widths: None -> [4, 8] (checkpoint -> config.yaml)"),
    case("evaluate-unsafe", "evaluate {w}/evil_run",
         "checkpoint '{w}/evil_run/best.pt' holds Python objects other than tensors"),
    case("evaluate-corrupt", "evaluate {w}/garbage_run",
         "checkpoint '{w}/garbage_run/best.pt' is corrupt or not a PyTorch file"),
    case("evaluate-truncated", "evaluate {w}/truncated_run",
         "checkpoint '{w}/truncated_run/best.pt' is corrupt or not a PyTorch file"),
    case("evaluate-split", "evaluate " + RUN + " --split foo", "split must be test, val or train"),
    case("evaluate-which", "evaluate " + RUN + " --checkpoint middle",
         "checkpoint must be best or last"),
    case("evaluate-bad-data", "evaluate " + RUN + " --data npz:{w}/text.npz",
         "npz file '{w}/text.npz' is not a valid .npz archive"),
    case("evaluate-device", "evaluate " + RUN + " --device tpu", "unknown device 'tpu'"),
    # --- predict -------------------------------------------------------------------------------
    case("predict-image-dir", "predict " + RUN + " {w}",
         "image '{w}' is a directory, expected an image file"),
    case("predict-image-missing", "predict " + RUN + " {t}/missing.png",
         "image '{t}/missing.png' does not exist"),
    case("predict-not-an-image", "predict " + RUN + " {w}/afile.txt", "cannot decode image"),
    case("predict-foreign-checkpoint", "predict {w}/mixed {w}/digit.png",
         "checkpoint '{w}/mixed/best.pt' does not belong to the run"),
    case("predict-run-missing", "predict {t}/missing {w}/digit.png",
         "run directory '{t}/missing' does not exist"),
    case("predict-top-k", "predict " + RUN + " {w}/digit.png --top-k 0", "top-k must be >= 1"),
    case("predict-run-is-file", "predict {w}/afile.txt {w}/digit.png",
         "run directory '{w}/afile.txt' is a file"),
    case("predict-checkpoint-file", "predict " + RUN + "/best.pt {w}/digit.png",
         f"run directory '{RUN}/best.pt' is a file"),
    # --- sweep ---------------------------------------------------------------------------------
    case("sweep-no-grid", SWEEP, "give at least one --grid field=values"),
    case("sweep-range-letter", SWEEP + " --grid dropout=0:x:0.1", "grid 'dropout=0:x:0.1': 'x' is not a number"),
    case("sweep-field-typo", SWEEP + " --grid dropuot=0,0.5", "unknown TrainConfig field in grid"),
    case("sweep-empty-values", SWEEP + " --grid lr=", "grid 'lr=' is not of the form"),
    case("sweep-repeat", SWEEP + " --grid lr=0.1,0.1", "grid 'lr=0.1,0.1' repeats a value"),
    case("sweep-zero-step", SWEEP + " --grid lr=0:1:0", "grid 'lr=0:1:0': a range a:b:step needs step > 0"),
    case("sweep-long-range", SWEEP + " --grid lr=0:1000000:1", "grid 'lr=0:1000000:1' has 1000001 values"),
    case("sweep-huge-grid", SWEEP + " --grid lr=1:100:1 --grid dropout=0:0.99:0.01 --grid seed=1:10:1",
         "the grid has 100 x 100 x 10 = 100,000 settings; at most 10,000"),
    case("sweep-search", SWEEP + " --grid lr=0.1,0.2 --search foo",
         "unknown search 'foo' (valid: grid, random, tpe)"),
    case("sweep-random-trials", SWEEP + " --grid lr=0.1,0.2 --search random",
         "--search random needs --trials N"),
    case("sweep-seeds", SWEEP + " --grid lr=0.1,0.2 --seeds 0", "seeds must be >= 1"),
    case("sweep-select", SWEEP + " --grid lr=0.1,0.2 --select foo", "unknown select 'foo'"),
    case("sweep-workers", SWEEP + " --grid lr=0.1,0.2 --workers -1", "--workers -1 must be >= 0"),
    case("sweep-offline-data", "sweep --data mnist --grid lr=0.1,0.2 --sweep-dir {t}/sw",
         "data set 'mnist' not found under data"),
    case("sweep-bad-npz", "sweep --data npz:{w}/text.npz --grid lr=0.1,0.2 --sweep-dir {t}/sw",
         "npz file '{w}/text.npz' is not a valid .npz archive"),
    case("sweep-grid-data", SWEEP + " --grid data=digits,foo --sweep-dir {t}/sw",
         "unknown data set 'foo' (valid: cifar10, digits"),
    case("sweep-other-sweep", SWEEP + " --grid lr=0.1,0.5 --sweep-dir {w}/sweep_other",
         "{w}/sweep_other already holds a different sweep"),
    case("sweep-dir-holds-run", SWEEP + " --grid lr=0.1,0.5 --sweep-dir " + RUN,
         f"sweep directory '{RUN}' already holds a run"),
    case("sweep-dir-unwritable", SWEEP + " --grid lr=0.1,0.5 --sweep-dir /sys/sw",
         "cannot create sweep directory '/sys/sw'"),
    case("sweep-dir-is-file", SWEEP + " --grid lr=0.1,0.5 --sweep-dir {w}/afile.txt",
         "sweep directory '{w}/afile.txt' is a file"),
    case("sweep-storage", SWEEP + " --grid lr=0.1,0.5 --storage postgresql://x@127.0.0.1:1/none "
         "--sweep-dir {t}/sw", "storage 'postgresql://x@127.0.0.1:1/none' cannot be reached"),
    case("sweep-model", "sweep --model foo --grid lr=0.1,0.5", "unknown model 'foo'"),
    case("sweep-worker-missing", "sweep worker {t}/missing", "sweep directory '{t}/missing' does not exist"),
    case("sweep-worker-file", "sweep worker {w}/afile.txt", "sweep directory '{w}/afile.txt' is a file"),
    case("sweep-worker-empty", "sweep worker {w}/empty", "{w}/empty holds no sweep (no sweep.yaml)"),
    case("sweep-report-empty", "sweep report {w}/empty", "{w}/empty holds no sweep (no sweep.yaml)"),
    case("sweep-report-broken", "sweep report {w}/broken_sweep",
         "{w}/broken_sweep/sweep.yaml is not a valid sweep.yaml"),
    # --- study ---------------------------------------------------------------------------------
    case("study-unknown", "study foo", "No such command 'foo'"),
    case("study-set", STUDY + " --set foo=1", "unknown DropoutStudyConfig field 'foo'"),
    case("study-data", STUDY + " --data foo", "unknown data set 'foo'"),
    case("study-bad-npz", STUDY + " --data npz:{w}/text.npz",
         "npz file '{w}/text.npz' is not a valid .npz archive"),
    case("study-offline", STUDY + " --data mnist --study-dir {t}/st",
         "data set 'mnist' not found under data"),
    case("study-dir-other", STUDY + " --study-dir " + RUN,
         f"study directory '{RUN}' already holds a run with other settings"),
    case("study-dir-file", STUDY + " --study-dir {w}/afile.txt",
         "study directory '{w}/afile.txt' is a file"),
    case("study-dir-unwritable", STUDY + " --study-dir /sys/st", "cannot create study directory '/sys/st'"),
    case("study-epochs", STUDY + " --epochs abc", "epochs='abc' is not an integer"),
    case("study-overwrite-foreign", STUDY + " --study-dir {w}/foreign --overwrite",
         "study directory '{w}/foreign' holds files that neuralab did not write"),
    # --- the course's claims: sam-step, softmax, receptive-field, translation -----------------
    case("sam-step-letters", "sam-step --w abc", "--w 'abc' has the entry 'abc', not a number"),
    case("sam-step-targets", "sam-step --x '[[1,2]]' --y 1,0",
         "--y '1,0' has 2 entries; expected examples = 1"),
    case("sam-step-loss", "sam-step --loss foo", "unknown loss 'foo' (valid: bce, mse)"),
    case("sam-step-rho", "sam-step --rho -1", "rho must be > 0, got -1.0"),
    case("sam-step-lr", "sam-step --lr nan", "lr must be > 0, got nan"),
    case("softmax-letters", "softmax abc", "logits 'abc' has the entry 'abc', not a number"),
    case("softmax-one-logit", "softmax 1", "logits '1' need at least two entries"),
    case("softmax-overflow", "softmax 1,1e400", "logits '1,1e400' has the entry '1e400'"),
    case("receptive-field-layers", "receptive-field --layers 100", "layers must be 1..12, got 100"),
    case("receptive-field-text", "receptive-field --layers abc", "Invalid value for '--layers'"),
    case("translation-pool-zero", "translation --pool 0", "pool 0 must be >= 1"),
    case("translation-huge", "translation --size 100000",
         "a 100000x100000 image and its shifted copies needs about"),
    case("translation-kernel", "translation --kernel 2", "size 8 must be a multiple of pool 2"),
    case("sigmoid-cases-c", "perceptron sigmoid-cases --c 0", "c values [0.0] must be positive"),
    case("sigmoid-cases-letters", "perceptron sigmoid-cases --w abc",
         "--w 'abc' has the entry 'abc', not a number"),
    # --- export --------------------------------------------------------------------------------
    case("export-format", "export " + RUN + " -f foo", "unknown export format 'foo'"),
    case("export-unwritable", "export " + RUN + " -f onnx -o /sys/x.onnx",
         "--output '/sys/x.onnx': cannot write in '/sys':"),
    case("export-missing-folder", "export " + RUN + " -f onnx -o {t}/nodir/x.onnx",
         "--output '{t}/nodir/x.onnx': the folder '{t}/nodir' does not exist"),
    case("export-checkpoint-file", "export " + RUN + "/best.pt -f onnx",
         f"run directory '{RUN}/best.pt' is a file, expected a run directory"),
    case("export-run-missing", "export {t}/missing -f onnx", "run directory '{t}/missing' does not exist"),
    case("export-foreign-checkpoint", "export {w}/mixed -f safetensors",
         "checkpoint '{w}/mixed/best.pt' does not belong to the run"),
    case("export-unsafe", "export {w}/evil_run -f safetensors",
         "checkpoint '{w}/evil_run/best.pt' holds Python objects other than tensors"),
    case("export-which", "export " + RUN + " -f onnx --checkpoint middle",
         "checkpoint must be best or last, got 'middle'"),
    # --- slurm (scripts only: --dry-run, or refused before anything is written) ----------------
    case("slurm-time", "slurm train --time abc --dry-run", "--time 'abc' is not a Slurm time"),
    case("slurm-nodes", "slurm train --nodes 0 --dry-run", "--nodes must be >= 1, got 0"),
    case("slurm-data", "slurm train --data foo --dry-run", "unknown data set 'foo'"),
    case("slurm-sweep-grid", "slurm sweep --dry-run", "give --grid field=values for a new sweep"),
    case("slurm-study", "slurm study foo", "No such command 'foo'"),
    # --- serve ---------------------------------------------------------------------------------
    case("serve-port-high", "serve --port 70000", "--port 70000 must be 0..65535"),
    case("serve-port-negative", "serve --port -1", "--port -1 must be 0..65535"),
    case("serve-port-text", "serve --port abc", "Invalid value for '--port'"),
    case("serve-host", "serve --host 256.1.1.1 --port 0", "cannot listen on 256.1.1.1:0"),
    # --- the command line itself ---------------------------------------------------------------
    case("cli-max-memory-text", "--max-memory abc padding", "--max-memory 'abc' is not a size"),
    case("cli-max-memory-missing", "padding --max-memory", "--max-memory needs a size"),
    case("cli-max-memory-zero", "--max-memory 0 padding", "--max-memory '0' must be between"),
    case("cli-unknown-command", "trian", "No such command 'trian'"),
    case("cli-unknown-option", "padding --paddin 1", "No such option: --paddin"),
]  # fmt: skip


def _python_default_warnings() -> None:
    """Filter warnings as Python does outside pytest: deprecations and the like stay hidden."""
    warnings.simplefilter("default")
    for category in (DeprecationWarning, PendingDeprecationWarning, ImportWarning, ResourceWarning):
        warnings.filterwarnings("ignore", category=category)


def _fill(text: str, world: Path, here: Path) -> str:
    return text.replace("{w}", str(world)).replace("{t}", str(here))


def _snapshot(*folders: Path) -> dict[str, tuple[int, int, str]]:
    """Return every file under ``folders`` (size, modification time, content hash) and folder.

    A folder's own modification time is left out: checking that an output can be written
    there creates and removes a probe file, which changes no file.
    """
    found: dict[str, tuple[int, int, str]] = {}
    for folder in folders:
        for path in sorted(folder.rglob("*")):
            if path.is_symlink() or path.is_dir():
                found[str(path)] = (-1, 0, "")
                continue
            stat = path.stat()
            digest = ""
            if stat.st_size <= 2**20:
                digest = hashlib.sha1(path.read_bytes()).hexdigest()
            found[str(path)] = (stat.st_size, stat.st_mtime_ns, digest)
    return found


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Prepared inputs: finished runs, corrupt and unsafe files, malformed configs and CSVs."""
    import numpy as np
    import torch
    import yaml

    from neuralab.cli import main
    from neuralab.studies.sweep.grid import parse_grid
    from neuralab.studies.sweep.spec import SweepSpec, open_sweep
    from neuralab.vision.config import TrainConfig

    w = tmp_path_factory.mktemp("world")
    small = ["--data", "digits", "--epochs", "1", "--device", "cpu", "--no-progress"]
    assert main(["train", "--model", "mlp", "--run-dir", str(w / "run_mlp"), *small]) == 0
    cnn = ["--model", "cnn", "--set", "widths=4,8", "--run-dir", str(w / "run_cnn")]
    assert main(["train", *cnn, *small]) == 0
    # a CNN run whose best.pt is the MLP's: evaluate must refuse it, not evaluate the MLP
    shutil.copytree(w / "run_cnn", w / "mixed")
    shutil.copy(w / "run_mlp" / "best.pt", w / "mixed" / "best.pt")

    class Evil:
        def __reduce__(self) -> tuple:
            return (os.system, ("echo unsafe",))

    torch.save({"fc.weight": Evil()}, w / "evil.pt")
    for name, payload in (
        ("evil_run", None),
        ("garbage_run", b"\x00garbage"),
        ("truncated_run", b""),
    ):
        shutil.copytree(w / "run_mlp", w / name)
        if payload is None:
            shutil.copy(w / "evil.pt", w / name / "best.pt")
        else:
            data = (w / "run_mlp" / "best.pt").read_bytes()
            (w / name / "best.pt").write_bytes(payload or data[: len(data) // 3])
    (w / "empty").mkdir()
    (w / "adir.png").mkdir()
    (w / "afile.txt").write_text("not an image, not a folder\n")
    (w / "foreign").mkdir()
    (w / "foreign" / "thesis.tex").write_text("\\documentclass{article}\n")
    (w / "playground_run").mkdir()
    (w / "playground_run" / "config.yaml").write_text("data: xor\n")
    (w / "playground_run" / "metrics.csv").write_text("epoch,train_loss\n1,0.5\n")
    # archives
    (w / "text.npz").write_text("hello")
    np.savez(w / "object.npz", x_train=np.array([{"a": 1}], dtype=object))
    np.savez(w / "keys.npz", x_train=np.zeros((3, 4, 4), np.uint8))
    data = (w / "keys.npz").read_bytes()
    (w / "truncated.npz").write_bytes(data[: len(data) // 2])
    # configs and CSVs
    (w / "bad.yaml").write_text("lr: [0.1\n")
    (w / "list.yaml").write_text("- lr\n- 0.1\n")
    (w / "binary.yaml").write_bytes(b"\xff\xfe\x00lr: 1\n")
    (w / "unknown_field.yaml").write_text("colour: red\n")
    (w / "bad.json").write_text("[[ [[1, 1]], [[1]] ")
    (w / "bad_perceptron.csv").write_text("x1,x2,label\n0,0,0\n1,one,1\n")
    (w / "points_bad.csv").write_text("x1,x2,label\n0,0,0\n1,1\n")
    from PIL import Image

    Image.new("L", (8, 8), 128).save(w / "digit.png")
    # a sweep directory holding another sweep, and a broken sweep.yaml
    spec = SweepSpec.from_axes({"data": "digits"}, [parse_grid("lr=0.1,0.2", TrainConfig)])
    open_sweep(w / "sweep_other", spec)
    (w / "broken_sweep").mkdir()
    (w / "broken_sweep" / "sweep.yaml").write_text(yaml.safe_dump({"grid": [1, 2]}))
    return w


@pytest.fixture
def crash_folder(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path_factory.mktemp("crashes")
    monkeypatch.setenv("NEURALAB_CRASH_DIR", str(folder))
    return folder


def test_the_catalogue_is_large_and_its_ids_unique() -> None:
    assert len(CASES) >= 140
    assert len({c.id for c in CASES}) == len(CASES)
    commands = {c.command.split()[0] if not c.command.startswith("-") else "cli" for c in CASES}
    assert {
        "summary",
        "diagram",
        "conv-matrix",
        "pool",
        "padding",
        "activations",
        "logic",
    } <= commands
    assert {"gradients", "perceptron", "playground", "experiment", "train", "evaluate"} <= commands
    assert {"predict", "sweep", "study", "serve", "export", "slurm", "sam-step"} <= commands
    assert {"softmax", "receptive-field", "translation"} <= commands


@pytest.mark.parametrize("bad", CASES, ids=[c.id for c in CASES])
def test_bad_input(
    bad: Case,
    world: Path,
    tmp_path: Path,
    run_cli,
    crash_folder: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    here = tmp_path / "here"
    here.mkdir()
    monkeypatch.chdir(here)
    for name, value in bad.env:
        monkeypatch.setenv(name, value)
    before = _snapshot(world, here)
    with warnings.catch_warnings(record=True) as caught:
        _python_default_warnings()  # what a user's terminal shows
        result = run_cli(*[_fill(a, world, here) for a in shlex.split(bad.command)])
    lines = result.stderr.splitlines()
    expected = "neuralab: error: " + _fill(bad.message, world, here)
    assert result.exit_code == bad.code, result.stderr
    assert len(lines) == bad.lines and lines[0].startswith(expected), result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert not [str(w.message) for w in caught], "a warning reached stderr"
    assert not list(crash_folder.iterdir()), "a crash report was written"
    assert _snapshot(world, here) == before, "the command wrote or changed files"
    assert not Path("/nonexistent").exists()
