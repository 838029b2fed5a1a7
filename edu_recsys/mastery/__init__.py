"""Mastery estimation (knowledge tracing) as scikit-learn estimators."""
