"""What a run leaves for people to look at, whatever the logger: results.csv/results.png and the family figures.

Kept free of torch/Lightning imports: vt-compare reads results.csv through ``results.table`` and must answer fast.
The callback is ``visiontrain.results.writer.ResultsWriter``."""
