"""Benchmarks behind `make bench`: each module compares against a baseline measured in the same run."""
