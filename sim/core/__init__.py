"""The model core: run state, detainees, transfers, vehicles, dispatch, fronts,
hazards, rules, registration, and the results built after a run."""
