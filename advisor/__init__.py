"""advisor: rule-based compliance and deployment advisor for large language models."""

__version__ = "0.1.0"
