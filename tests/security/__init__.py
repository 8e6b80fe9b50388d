"""Hostile-input tests: each reproduction of issue 21 run against the real server over loopback, bounded
in count and time (each test well under 20 s)."""
