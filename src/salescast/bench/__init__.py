"""Load benchmarks: real servers in child processes driven by Locust."""
