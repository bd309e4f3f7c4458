"""The closed loop: retrain, shadow-score, gate, promote and roll back, unattended."""
