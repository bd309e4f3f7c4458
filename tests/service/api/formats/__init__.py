"""Tests of the SIEM renderings (OCSF, ECS) against their schemas."""
