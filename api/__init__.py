"""The edu_recsys web service: a thin FastAPI layer over :mod:`edu_recsys.store`.

``api.main.create_app(settings)`` builds the application; ``edu-recsys serve`` runs it
with uvicorn. Routes hold no domain logic: they check access, call the library
(``edu_recsys.store`` and its serving layer) and shape the answer.
"""
