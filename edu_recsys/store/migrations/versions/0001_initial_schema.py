"""Initial schema: schools, classes, students, teachers, graphs, resources, interactions,
item aggregates, mastery snapshots, fitted models, hashed API tokens.

Revision ID: 0001
Revises: (none)
Create Date: 2026-11-29 06:49:02.704829
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "fitted_models",
        sa.Column(
            "model_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("n_interactions", sa.BigInteger(), nullable=False),
        sa.Column("n_students", sa.Integer(), nullable=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.Column("params", sa.JSON(), nullable=True),
        sa.Column("metrics", sa.JSON(), nullable=True),
        sa.Column("library_version", sa.String(length=32), nullable=True),
        sa.Column("artifact", sa.LargeBinary(), nullable=False),
        sa.Column("artifact_sha256", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("model_id", name=op.f("pk_fitted_models")),
    )
    op.create_table(
        "graphs",
        sa.Column("graph_id", sa.String(length=128), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("subject", sa.String(length=64), nullable=True),
        sa.Column("version", sa.String(length=64), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("n_concepts", sa.Integer(), nullable=False),
        sa.Column("n_edges", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("graph_id", name=op.f("pk_graphs")),
    )
    op.create_table(
        "item_stats",
        sa.Column("item_id", sa.String(length=200), nullable=False),
        sa.Column("n_answers", sa.Integer(), nullable=False),
        sa.Column("n_correct", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("item_id", name=op.f("pk_item_stats")),
    )
    op.create_table(
        "resources",
        sa.Column("resource_id", sa.String(length=128), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column("concept_ids", sa.JSON(), nullable=False),
        sa.Column("grade", sa.Integer(), nullable=True),
        sa.Column("subject", sa.String(length=64), nullable=True),
        sa.Column("minutes", sa.Float(), nullable=True),
        sa.Column("difficulty", sa.Float(), nullable=True),
        sa.Column("source", sa.String(length=200), nullable=True),
        sa.Column("is_quality", sa.Boolean(), nullable=False),
        sa.Column("url", sa.String(length=1000), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("resource_id", name=op.f("pk_resources")),
    )
    with op.batch_alter_table("resources", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_resources_grade"), ["grade"], unique=False)
        batch_op.create_index(batch_op.f("ix_resources_subject"), ["subject"], unique=False)
        batch_op.create_index(batch_op.f("ix_resources_type"), ["type"], unique=False)

    op.create_table(
        "schools",
        sa.Column("school_id", sa.String(length=128), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("settings", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("school_id", name=op.f("pk_schools")),
    )
    op.create_table(
        "store_meta",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_store_meta")),
    )
    op.create_table(
        "classes",
        sa.Column("class_id", sa.String(length=128), nullable=False),
        sa.Column("school_id", sa.String(length=128), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("grade", sa.Integer(), nullable=True),
        sa.Column("subject", sa.String(length=64), nullable=True),
        sa.Column("graph_id", sa.String(length=128), nullable=True),
        sa.Column("current_unit", sa.String(length=200), nullable=True),
        sa.Column("settings", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["graph_id"],
            ["graphs.graph_id"],
            name=op.f("fk_classes_graph_id_graphs"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["school_id"],
            ["schools.school_id"],
            name=op.f("fk_classes_school_id_schools"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("class_id", name=op.f("pk_classes")),
    )
    op.create_table(
        "resource_concepts",
        sa.Column("resource_id", sa.String(length=128), nullable=False),
        sa.Column("concept_id", sa.String(length=128), nullable=False),
        sa.ForeignKeyConstraint(
            ["resource_id"],
            ["resources.resource_id"],
            name=op.f("fk_resource_concepts_resource_id_resources"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("resource_id", "concept_id", name=op.f("pk_resource_concepts")),
    )
    with op.batch_alter_table("resource_concepts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_resource_concepts_concept_id"), ["concept_id"], unique=False
        )

    op.create_table(
        "students",
        sa.Column("student_id", sa.String(length=128), nullable=False),
        sa.Column("school_id", sa.String(length=128), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("grade", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["school_id"],
            ["schools.school_id"],
            name=op.f("fk_students_school_id_schools"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("student_id", name=op.f("pk_students")),
    )
    op.create_table(
        "teachers",
        sa.Column("teacher_id", sa.String(length=128), nullable=False),
        sa.Column("school_id", sa.String(length=128), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["school_id"],
            ["schools.school_id"],
            name=op.f("fk_teachers_school_id_schools"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("teacher_id", name=op.f("pk_teachers")),
    )
    op.create_table(
        "api_tokens",
        sa.Column(
            "token_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("teacher_id", sa.String(length=128), nullable=True),
        sa.Column("student_id", sa.String(length=128), nullable=True),
        sa.Column("class_ids", sa.JSON(), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["student_id"],
            ["students.student_id"],
            name=op.f("fk_api_tokens_student_id_students"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["teacher_id"],
            ["teachers.teacher_id"],
            name=op.f("fk_api_tokens_teacher_id_teachers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("token_id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_tokens_token_hash")),
    )
    op.create_table(
        "class_teachers",
        sa.Column("class_id", sa.String(length=128), nullable=False),
        sa.Column("teacher_id", sa.String(length=128), nullable=False),
        sa.ForeignKeyConstraint(
            ["class_id"],
            ["classes.class_id"],
            name=op.f("fk_class_teachers_class_id_classes"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["teacher_id"],
            ["teachers.teacher_id"],
            name=op.f("fk_class_teachers_teacher_id_teachers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("class_id", "teacher_id", name=op.f("pk_class_teachers")),
    )
    with op.batch_alter_table("class_teachers", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_class_teachers_teacher_id"), ["teacher_id"], unique=False
        )

    op.create_table(
        "enrolments",
        sa.Column("class_id", sa.String(length=128), nullable=False),
        sa.Column("student_id", sa.String(length=128), nullable=False),
        sa.Column("enrolled_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["class_id"],
            ["classes.class_id"],
            name=op.f("fk_enrolments_class_id_classes"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["student_id"],
            ["students.student_id"],
            name=op.f("fk_enrolments_student_id_students"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("class_id", "student_id", name=op.f("pk_enrolments")),
    )
    with op.batch_alter_table("enrolments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_enrolments_student_id"), ["student_id"], unique=False)

    op.create_table(
        "interactions",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("event_id", sa.String(length=200), nullable=False),
        sa.Column("student_id", sa.String(length=128), nullable=False),
        sa.Column("item_id", sa.String(length=200), nullable=False),
        sa.Column("concept_ids", sa.JSON(), nullable=False),
        sa.Column("correct", sa.SmallInteger(), nullable=False),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("timestamp", sa.DateTime(timezone=True), nullable=True),
        sa.Column("duration_s", sa.Float(), nullable=True),
        sa.Column("resource_id", sa.String(length=128), nullable=True),
        sa.Column("ingested_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["student_id"],
            ["students.student_id"],
            name=op.f("fk_interactions_student_id_students"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_interactions")),
        sa.UniqueConstraint("event_id", name=op.f("uq_interactions_event_id")),
    )
    with op.batch_alter_table("interactions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_interactions_item_id"), ["item_id"], unique=False)
        batch_op.create_index("ix_interactions_student_seq", ["student_id", "seq"], unique=False)

    op.create_table(
        "student_mastery",
        sa.Column("student_id", sa.String(length=128), nullable=False),
        sa.Column("model_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("mastery", sa.JSON(), nullable=False),
        sa.Column("n_answers", sa.Integer(), nullable=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["model_id"],
            ["fitted_models.model_id"],
            name=op.f("fk_student_mastery_model_id_fitted_models"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["student_id"],
            ["students.student_id"],
            name=op.f("fk_student_mastery_student_id_students"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("student_id", name=op.f("pk_student_mastery")),
    )


def downgrade() -> None:
    op.drop_table("student_mastery")
    with op.batch_alter_table("interactions", schema=None) as batch_op:
        batch_op.drop_index("ix_interactions_student_seq")
        batch_op.drop_index(batch_op.f("ix_interactions_item_id"))

    op.drop_table("interactions")
    with op.batch_alter_table("enrolments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_enrolments_student_id"))

    op.drop_table("enrolments")
    with op.batch_alter_table("class_teachers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_class_teachers_teacher_id"))

    op.drop_table("class_teachers")
    op.drop_table("api_tokens")
    op.drop_table("teachers")
    op.drop_table("students")
    with op.batch_alter_table("resource_concepts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_resource_concepts_concept_id"))

    op.drop_table("resource_concepts")
    op.drop_table("classes")
    op.drop_table("store_meta")
    op.drop_table("schools")
    with op.batch_alter_table("resources", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_resources_type"))
        batch_op.drop_index(batch_op.f("ix_resources_subject"))
        batch_op.drop_index(batch_op.f("ix_resources_grade"))

    op.drop_table("resources")
    op.drop_table("item_stats")
    op.drop_table("graphs")
    op.drop_table("fitted_models")
