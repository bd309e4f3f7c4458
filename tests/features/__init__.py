"""Tests of the feature pipeline: decoding, normalization, features and entity history."""
