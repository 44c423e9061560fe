"""Local stand-ins for provider APIs, so the demo and the tests need no accounts."""
