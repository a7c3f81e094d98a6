"""Foundations every layer may use: the error root, strict JSON text, files, progress."""
