"""Figures and the static HTML report (``hstlc plot``)."""

from hstlc.report.builder import ReportResult, build_report
from hstlc.report.figures import FigureMaker, Fold, lightcurve_figure, periodogram_figure

__all__ = ["FigureMaker", "Fold", "ReportResult", "build_report", "lightcurve_figure", "periodogram_figure"]
