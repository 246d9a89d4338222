"""dtsim figures."""
