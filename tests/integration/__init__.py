"""End-to-end tests: auditlens processes on a real Kafka broker, store and MLflow registry."""
