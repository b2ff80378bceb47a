"""nnbook: the course-book's own kit, beside the neural-network library ``nnlib``.

=====================  ======================================================================
module                 what
=====================  ======================================================================
``nnbook.datasets``    the book's examples (snacks, sports events), logic gates, 2-D toy sets, digits and MNIST
``nnbook.plotting``    decision regions, loss curves, image grids, graph and network drawings
``nnbook.widgets``     slider panels: live in Jupyter, precomputed on the static site
=====================  ======================================================================

nnbook imports nnlib; nnlib never imports nnbook.
"""
