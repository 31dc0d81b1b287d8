"""Sweeps over training settings and the course's studies, chosen on validation data only."""
