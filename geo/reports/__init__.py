"""Files handed to people: candidate lists and other reports written from analysis results.

Reports import ``policy`` and ``space``; nothing below imports a report.
"""
