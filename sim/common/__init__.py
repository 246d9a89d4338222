"""Small helpers with no knowledge of scenarios or the model: geometry, named random
streams, distributions, statistics, atomic file writes and the version."""
