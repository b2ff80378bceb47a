"""Small scripts of the course-book: exercise generation and grading.

* ``python -m tools.exercises`` (``make exercises``) writes ``exercises/`` from ``solutions/``.
* ``python -m tools.grade student.ipynb`` (``make grade NB=student.ipynb``) grades a submission.

Run them from the repository root.
"""
