"""Extractors: one package per source, a shared HTTP client and the raw loader."""
