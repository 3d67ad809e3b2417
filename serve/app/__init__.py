"""The FastAPI application (layout after FastAPI's full-stack template, backend/app)."""
