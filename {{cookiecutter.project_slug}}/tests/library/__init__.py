"""Tests of the project's own code: the data-migration helpers, their guide,
the harness. They need no revision, so ``make test-migrations`` leaves them
to ``make test-library``; ``make test`` runs both."""
