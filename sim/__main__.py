"""``python -m sim`` does what ``dtsim`` does."""

from sim.cli import main

main()
