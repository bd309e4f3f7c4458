"""Tests of the analyst console's pages, sessions and roles."""
