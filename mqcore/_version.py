"""mqcore's version: the one source read by ``mqcore.__version__`` and, via
``[tool.setuptools.dynamic]`` in pyproject.toml, by the build.

Keep this file a single literal assignment: setuptools reads it without
importing mqcore (which needs the compiled core).
"""

__version__ = "0.1.0"
