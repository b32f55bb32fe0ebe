"""Benchmarks of battery-plan: synthetic cases of growing size and a timing harness (not part of CI)."""
