"""paperlib: the code behind the Kausik reproductions book.

Notebooks stay thin: data, models, training, fits, timing and run records live here.
"""

__version__ = "0.1.0"
