"""The console's pages, one module per area: sign-in, feed, anomaly, suppressions, admin."""
