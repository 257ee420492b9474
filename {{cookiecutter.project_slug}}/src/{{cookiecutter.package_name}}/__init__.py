"""Models and migration helpers for {{ cookiecutter.project_slug }}."""
