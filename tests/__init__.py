"""The test suite: folders mirror the packages; integration runs whole processes."""
