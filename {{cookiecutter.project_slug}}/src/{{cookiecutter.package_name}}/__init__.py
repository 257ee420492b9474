"""The application's models for {{ cookiecutter.project_slug }}."""
