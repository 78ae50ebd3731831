"""Silver transforms: pure PySpark DataFrame functions (silver, aggregates) and their scalar reference formulas.

Import from the submodules; this package imports nothing, so the formulas stay usable without pyspark.
"""
