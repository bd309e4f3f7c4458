"""Tests of the throwaway local Kafka and PostgreSQL."""
