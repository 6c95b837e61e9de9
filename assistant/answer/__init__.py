"""Answerers turn retrieved passages into an ``Answer`` with verified citations."""
