"""nnlib: the small numpy neural-network library of the course-book.

One module per concept, in the order the book introduces them.
"""

__version__ = "1.0.0"
