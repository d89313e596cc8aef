"""Figures and the HTML report (``theorylab reproduce`` / ``theorylab report``)."""
