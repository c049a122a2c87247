"""Claim registry, runner, verdicts and CLI of the deep-ResNet limits audit."""
__version__ = "0.1.0"
