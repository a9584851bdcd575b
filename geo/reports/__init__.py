"""Files handed to people: candidate lists, the plan table (计划表), the progress ledger (台账) and the plan's GIS
layers, written from analysis results in one language. ``xlsx`` is the one look of every workbook, ``csvfile``
the one CSV writer, ``labels`` the words for coded values; every spreadsheet cell goes through
:mod:`geo.io.cells`.

Reports import ``policy``, ``space`` and ``progress``; nothing below imports a report.
"""
