"""Core shared by the orchestrator and the extractors: errors, settings, tenancy, step contract."""

__version__ = "0.1.0"
