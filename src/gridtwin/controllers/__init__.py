"""Automation functions under test: pure algorithms, each with a thin mosaik adapter beside it."""
