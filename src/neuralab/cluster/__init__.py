"""Slurm: batch scripts for training, sweeps and studies, and their submission.

``batch`` renders ``#SBATCH`` headers and scripts (text only); ``jobs`` builds the scripts of a
training run (``srun torchrun`` on every node), an array of sweep workers, a sweep report and a
study; ``submit`` writes them and submits them with sbatch.
"""
