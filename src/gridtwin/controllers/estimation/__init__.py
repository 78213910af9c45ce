"""State estimation: weighted least squares with bad-data processing."""
