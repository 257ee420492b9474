"""The migration harness: its fixtures (``steps``, ``database``, ``backend``)
and its closing lines come from migration_kit's pytest plugin."""

pytest_plugins = ["migration_kit.harness.plugin"]
