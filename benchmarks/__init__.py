"""Benchmarks for prosper-voice-mock: run on demand (``make bench``), never asserted in tests."""
