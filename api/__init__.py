"""HTTP API (FastAPI): one router per feature under ``api/routes``."""
