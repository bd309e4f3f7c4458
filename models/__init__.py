"""Anomaly models: isolation forest + autoencoder, calibrated, registered in MLflow."""
