"""Scenario input: the pydantic schema, YAML loading (``extends``, ``--set``), the
cross-checks, the route network and the parameters a run may change."""
