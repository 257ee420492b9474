"""Seeded rows depend on the seed alone: a table's foreign keys draw their
rows in one order in every run (a set's order changes from run to run)."""

import sqlalchemy as sa
from migration_kit.harness.seeding import _keys_in_order


def test_foreign_keys_come_in_the_order_of_their_columns() -> None:
    metadata = sa.MetaData()
    for name in ("runs", "experiments", "models"):
        sa.Table(name, metadata, sa.Column("id", sa.Integer, primary_key=True))
    metrics = sa.Table(
        "metrics",
        metadata,
        sa.Column("run_id", sa.ForeignKey("runs.id")),
        sa.Column("model_id", sa.ForeignKey("models.id")),
        sa.Column("experiment_id", sa.ForeignKey("experiments.id")),
    )
    ordered = [key.column_keys for key in _keys_in_order(metrics)]
    assert ordered == [["experiment_id"], ["model_id"], ["run_id"]]
