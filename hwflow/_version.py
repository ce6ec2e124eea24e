"""The version of hwflow, in a module of its own so that any module can import it without
importing the package's __init__ (which loads the Python API lazily)."""

__version__ = "0.1.0"
