"""Benchmarks, load test and fuzz harness for asgi-consent (see README.md); not shipped."""
