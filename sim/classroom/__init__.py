"""The classroom: exercise packs with computed keys and grading, decisions and play."""
