"""The polars feature pipeline: messages → normalized events → features, with entity history."""
