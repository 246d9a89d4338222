"""dtsim figures, map and HTML report: pure functions from saved results to images.

Modules, one concern each:

- ``results``: reading a results folder (run, replications, sweep, compare),
  kind detection and format checks;
- ``style``: the Okabe-Ito palette, sizes and date axes shared by every figure;
- ``timeseries``: throughput, sorties and flight hours, prisons, reception;
- ``fleet``: aircraft states over time and the Gantt chart of sorties;
- ``geomap``: the map (with ``data/borders.json``), its day frames and the GIF;
- ``experiments``: KPI histograms, sweep heatmaps and compare plots;
- ``figures``: the catalogue and drawing a folder's figures to files;
- ``report``: the self-contained ``report.html``;
- ``embed`` and ``parallel``: base64 embedding and a forked drawing worker.

``viz`` imports ``sim``; ``sim`` imports ``viz`` only inside the commands that draw.
"""
