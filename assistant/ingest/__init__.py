"""Ingest: load → clean → metadata → structure → chunks → index."""
