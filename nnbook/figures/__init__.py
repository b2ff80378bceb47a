"""Figure code of the chapters: one module per chapter that needs one (``ch01``, ``ch02``, ...).

A chapter imports its module, ``from nnbook.figures import ch01 as figures``, and shows one call
per figure, e.g. ``figures.sports_panel(X_events, short_names)``. Each function takes the data it
draws; the panel functions return an :class:`nnbook.widgets.Panel` (displayed as a cell's last
expression).
"""
