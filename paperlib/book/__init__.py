"""Notebook -> page -> verdict: typed parameters, the papermill runner, run records, the claims
registry, and how verdicts and numbers reach the page."""
