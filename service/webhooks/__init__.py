"""Signed webhooks (Standard Webhooks 1.0) fed by the store's durable outbox.

``signing`` signs and verifies, ``urls`` keeps endpoints off private networks,
``payloads`` renders the standard, Slack and Alertmanager bodies, ``backoff``
spaces retries, and ``dispatcher`` ties them together in a loop that
``auditlens serve`` runs beside the API.
"""
