"""Planning answers built on the model and on replications.

The fastest any dispatch could go (a lower bound), the smallest fleet that meets a
deadline at a confidence, which inputs matter (global sensitivity), and where the
deadline fails (scenario discovery). This layer sits above ``sim.experiments``:
it runs replications and stores, and only the CLI sits above it.
"""
