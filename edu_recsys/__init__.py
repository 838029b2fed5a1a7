"""edu_recsys: precise, data-driven teaching.

Subject knowledge graphs, mastery estimation (knowledge tracing as scikit-learn
estimators) and recommendations of resources, learning paths and homework.

The package is layered; lower layers never import higher ones::

    data, graph, resources  ->  mastery  ->  recommend, paths, classroom  ->  api, cli
"""

from edu_recsys.exceptions import EduRecsysError, InvalidDataError

__version__ = "0.1.0"

__all__ = ["EduRecsysError", "InvalidDataError", "__version__"]
