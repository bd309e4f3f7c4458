"""Tests of the detectors, calibration, explanations and the MLflow registry."""
