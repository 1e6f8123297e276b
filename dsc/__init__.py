"""dsc — a declarative dataset-spec compiler."""
__version__ = "0.1.0"
