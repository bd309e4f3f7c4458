"""Tests of what ships: the Helm chart, the Argo CD applications and the supply chain."""
