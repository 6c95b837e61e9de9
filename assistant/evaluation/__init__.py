"""Evaluation suite: gold questions → deterministic retrieval/answer/latency metrics, baselines, quality gate.

Nothing heavy is imported here; ``assistant eval`` (``cli.eval_command``) and the tests import the submodules.
"""
