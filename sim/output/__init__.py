"""Results on disk: the files a run writes and their format (shared with ``viz``)."""
