"""Tests of the optimizer: retrain, shadow window, gate, promotion and rollback."""
