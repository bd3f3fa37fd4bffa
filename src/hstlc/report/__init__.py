"""Figures and the static HTML report (``hstlc plot``)."""

from hstlc.report.builder import ReportResult, build_report
from hstlc.report.figures import lightcurve_figure, periodogram_figure

__all__ = ["ReportResult", "build_report", "lightcurve_figure", "periodogram_figure"]
