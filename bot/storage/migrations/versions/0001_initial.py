"""Initial schema: teams, members, missteps, lessons, checks, recurrences, scheduled items.

Revision ID: 0001
Revises:
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
        "members",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("workspace", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=True),
        sa.Column("platform_timezone", sa.String(length=64), nullable=True),
        sa.Column("work_start_minute", sa.Integer(), nullable=True),
        sa.Column("work_end_minute", sa.Integer(), nullable=True),
        sa.Column("paused_until", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_members")),
        sa.UniqueConstraint(
            "platform", "workspace", "user_id", name=op.f("uq_members_platform_workspace_user_id")
        ),
    )
    op.create_table(
        "teams",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("workspace", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("announce_missteps", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("misstep_seq", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_teams")),
        sa.UniqueConstraint(
            "platform", "workspace", "channel", name=op.f("uq_teams_platform_workspace_channel")
        ),
    )
    op.create_table(
        "workspaces",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("workspace", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("stopped_at", sa.DateTime(), nullable=True),
        sa.Column("stopped_reason", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workspaces")),
        sa.UniqueConstraint("platform", "workspace", name=op.f("uq_workspaces_platform_workspace")),
    )
    op.create_table(
        "invocations",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("team_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_invocations_team_id_teams"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_invocations")),
    )
    op.create_index(op.f("ix_invocations_created_at"), "invocations", ["created_at"], unique=False)

    op.create_table(
        "missteps",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("team_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("what", sa.Text(), nullable=False),
        sa.Column("goal", sa.Text(), nullable=True),
        sa.Column("depth", sa.String(length=16), nullable=False),
        sa.Column("anonymous", sa.Boolean(), nullable=False),
        sa.Column("author_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("prompt_state", sa.String(length=16), nullable=False),
        sa.Column("prompt_closed_at", sa.DateTime(), nullable=True),
        sa.Column("check_window_closed_at", sa.DateTime(), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("outcome_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["author_id"], ["members.id"], name=op.f("fk_missteps_author_id_members"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_missteps_team_id_teams"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_missteps")),
        sa.UniqueConstraint("team_id", "number", name=op.f("uq_missteps_team_id_number")),
    )
    op.create_index(op.f("ix_missteps_author_id"), "missteps", ["author_id"], unique=False)
    op.create_index(
        op.f("ix_missteps_team_id_created_at"), "missteps", ["team_id", "created_at"], unique=False
    )
    op.create_index(
        op.f("ix_missteps_team_id_outcome_at"), "missteps", ["team_id", "outcome_at"], unique=False
    )

    op.create_table(
        "team_schedules",
        sa.Column("team_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("weekday", sa.Integer(), nullable=False),
        sa.Column("at_minute", sa.Integer(), nullable=False),
        sa.Column("enabled", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_team_schedules_team_id_teams"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("team_id", "kind", name=op.f("pk_team_schedules")),
    )
    op.create_table(
        "checks",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("team_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("misstep_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("answer", sa.String(length=16), nullable=False),
        sa.Column("answered_by", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("answered_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["answered_by"], ["members.id"], name=op.f("fk_checks_answered_by_members"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["misstep_id"], ["missteps.id"], name=op.f("fk_checks_misstep_id_missteps"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_checks_team_id_teams"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_checks")),
    )
    op.create_index(op.f("ix_checks_misstep_id"), "checks", ["misstep_id"], unique=False)
    op.create_index(op.f("ix_checks_team_id_answered_at"), "checks", ["team_id", "answered_at"], unique=False)

    op.create_table(
        "lessons",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("team_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("misstep_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("commitment", sa.Text(), nullable=True),
        sa.Column("owner_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("renewed_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["misstep_id"], ["missteps.id"], name=op.f("fk_lessons_misstep_id_missteps"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["owner_id"], ["members.id"], name=op.f("fk_lessons_owner_id_members")),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_lessons_team_id_teams"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lessons")),
        sa.UniqueConstraint("misstep_id", name=op.f("uq_lessons_misstep_id")),
    )
    op.create_index(op.f("ix_lessons_team_id_updated_at"), "lessons", ["team_id", "updated_at"], unique=False)

    op.create_table(
        "misstep_tags",
        sa.Column("misstep_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("tag", sa.String(length=64), nullable=False),
        sa.Column("team_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.ForeignKeyConstraint(
            ["misstep_id"],
            ["missteps.id"],
            name=op.f("fk_misstep_tags_misstep_id_missteps"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_misstep_tags_team_id_teams"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("misstep_id", "tag", name=op.f("pk_misstep_tags")),
    )
    op.create_index(op.f("ix_misstep_tags_team_id_tag"), "misstep_tags", ["team_id", "tag"], unique=False)

    op.create_table(
        "recurrences",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("team_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("misstep_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("earlier_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.Column("decided_by", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.ForeignKeyConstraint(
            ["decided_by"],
            ["members.id"],
            name=op.f("fk_recurrences_decided_by_members"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["earlier_id"],
            ["missteps.id"],
            name=op.f("fk_recurrences_earlier_id_missteps"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["misstep_id"],
            ["missteps.id"],
            name=op.f("fk_recurrences_misstep_id_missteps"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_recurrences_team_id_teams"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recurrences")),
        sa.UniqueConstraint("misstep_id", "earlier_id", name=op.f("uq_recurrences_misstep_id_earlier_id")),
    )
    op.create_index(op.f("ix_recurrences_earlier_id"), "recurrences", ["earlier_id"], unique=False)
    op.create_index(
        op.f("ix_recurrences_team_id_decided_at"), "recurrences", ["team_id", "decided_at"], unique=False
    )

    op.create_table(
        "scheduled_items",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("team_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("misstep_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("member_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("occurrence", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("due_at", sa.DateTime(), nullable=False),
        sa.Column("run_at", sa.DateTime(), nullable=False),
        sa.Column("window_start", sa.DateTime(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("claimed_by", sa.String(length=64), nullable=True),
        sa.Column("lease_until", sa.DateTime(), nullable=True),
        sa.Column("lead_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["lead_id"],
            ["scheduled_items.id"],
            name=op.f("fk_scheduled_items_lead_id_scheduled_items"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_scheduled_items_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["misstep_id"],
            ["missteps.id"],
            name=op.f("fk_scheduled_items_misstep_id_missteps"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_scheduled_items_team_id_teams"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scheduled_items")),
    )
    op.create_index(
        "ix_scheduled_items_lead_id",
        "scheduled_items",
        ["lead_id"],
        unique=False,
        postgresql_where=sa.text("lead_id IS NOT NULL"),
        sqlite_where=sa.text("lead_id IS NOT NULL"),
    )
    op.create_index(
        op.f("ix_scheduled_items_member_id_status"), "scheduled_items", ["member_id", "status"], unique=False
    )
    op.create_index(op.f("ix_scheduled_items_misstep_id"), "scheduled_items", ["misstep_id"], unique=False)
    op.create_index(
        "ix_scheduled_items_pending_run_at",
        "scheduled_items",
        ["run_at"],
        unique=False,
        postgresql_where=sa.text("status = 'pending'"),
        sqlite_where=sa.text("status = 'pending'"),
    )
    op.create_index(
        op.f("ix_scheduled_items_team_id_status"), "scheduled_items", ["team_id", "status"], unique=False
    )
    op.create_index(
        "uq_scheduled_items_pending_misstep_kind",
        "scheduled_items",
        ["misstep_id", "kind"],
        unique=True,
        postgresql_where=sa.text("status = 'pending' AND misstep_id IS NOT NULL"),
        sqlite_where=sa.text("status = 'pending' AND misstep_id IS NOT NULL"),
    )
    op.create_index(
        "uq_scheduled_items_pending_team_post",
        "scheduled_items",
        ["team_id", "kind"],
        unique=True,
        postgresql_where=sa.text("status = 'pending' AND kind IN ('retro_round', 'digest')"),
        sqlite_where=sa.text("status = 'pending' AND kind IN ('retro_round', 'digest')"),
    )

    op.create_table(
        "deliveries",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("item_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("occurrence", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("member_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["scheduled_items.id"],
            name=op.f("fk_deliveries_item_id_scheduled_items"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_deliveries_member_id_members"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deliveries")),
        sa.UniqueConstraint("item_id", "occurrence", name=op.f("uq_deliveries_item_id_occurrence")),
    )
    op.create_index(
        op.f("ix_deliveries_member_id_created_at"), "deliveries", ["member_id", "created_at"], unique=False
    )

    op.create_table(
        "slack_installations",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("enterprise_id", sa.String(length=32), server_default=sa.text("''"), nullable=False),
        sa.Column("team_id", sa.String(length=32), server_default=sa.text("''"), nullable=False),
        sa.Column("app_id", sa.String(length=32), nullable=True),
        sa.Column("bot_id", sa.String(length=32), nullable=False),
        sa.Column("bot_user_id", sa.String(length=32), nullable=False),
        sa.Column("bot_token", sa.Text(), nullable=False),
        sa.Column("bot_scopes", sa.Text(), server_default=sa.text("''"), nullable=False),
        sa.Column("installer_user_id", sa.String(length=32), nullable=True),
        sa.Column("is_enterprise_install", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("installed_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_slack_installations")),
        sa.UniqueConstraint(
            "enterprise_id", "team_id", name=op.f("uq_slack_installations_enterprise_id_team_id")
        ),
    )
    op.create_table(
        "slack_oauth_states",
        sa.Column("state", sa.String(length=64), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("state", name=op.f("pk_slack_oauth_states")),
    )
    op.create_index(
        op.f("ix_slack_oauth_states_expires_at"), "slack_oauth_states", ["expires_at"], unique=False
    )


def downgrade() -> None:
    op.drop_table("slack_oauth_states")
    op.drop_table("slack_installations")
    op.drop_table("deliveries")
    op.drop_table("scheduled_items")
    op.drop_table("recurrences")
    op.drop_table("misstep_tags")
    op.drop_table("lessons")
    op.drop_table("checks")
    op.drop_table("team_schedules")
    op.drop_table("missteps")
    op.drop_table("invocations")
    op.drop_table("workspaces")
    op.drop_table("teams")
    op.drop_table("members")
