"""Tests of signed webhooks and their durable delivery."""
