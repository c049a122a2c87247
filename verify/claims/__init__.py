"""Audit functions, one module per paper section; each registers itself with ``@audits(id)``."""
