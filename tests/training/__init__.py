"""Tests of training, evaluation, the gate and the synthetic organisation."""
