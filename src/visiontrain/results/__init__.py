"""What a run leaves for people to look at, whatever the logger: results.csv/results.png and the family figures."""

from visiontrain.results.writer import ResultsWriter

__all__ = ["ResultsWriter"]
