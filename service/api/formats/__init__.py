"""SIEM renderings of an anomaly: OCSF Detection Finding and ECS alert (``format=`` on the feed)."""
