"""Policy Q&A assistant: retrieval-augmented answers over Chinese policy documents."""

__version__ = "0.1.0"
