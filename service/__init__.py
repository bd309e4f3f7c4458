"""The running service: Kafka scorer, HTTP API, store, webhooks and the ``auditlens`` CLI."""
