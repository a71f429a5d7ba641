"""Plan areas keep their national id (lokalId) and a key that follows them across versions.

Findings named plan areas by feltnavn, else the feature id, else position, so an area
renamed between versions, or two areas sharing a feltnavn, could not be followed. An area's
key is now its identifikasjon.lokalId where the file gives one (spatial.plan_model.area_keys),
and findings keep the names people read beside the keys.

Rows stored before this migration get keys by the same order (lokalId from the stored
attributes as Plan-GML, SOSI or GeoJSON write it, then feltnavn, feature id, position);
their findings keep their old keys (feltnavn where there was one) as names and take the
areas' new keys, with fingerprints made again from them.

Revision ID: 0009_area_keys
Revises: 0008_rule_set_text
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0009_area_keys"
down_revision: str | None = "0008_rule_set_text"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("plan_feature", sa.Column("lokal_id", sa.Text(), nullable=True))
    op.add_column("plan_feature", sa.Column("area_key", sa.Text(), nullable=True))
    op.execute(
        """
        WITH candidate AS (
            SELECT id, version_id, feltnavn, source_id, position,
                   nullif(btrim(coalesce(
                       properties ->> 'lokalId', properties ->> 'LOKALID',
                       properties ->> 'lokalid',
                       properties -> 'identifikasjon' ->> 'lokalId'
                   )), '') AS lokal_id
            FROM plan_feature
        ), counted AS (
            SELECT *,
                   count(*) OVER (PARTITION BY version_id, lokal_id) AS lokal_id_uses,
                   count(*) OVER (PARTITION BY version_id, feltnavn) AS feltnavn_uses,
                   count(*) OVER (PARTITION BY version_id, source_id) AS source_id_uses
            FROM candidate
        )
        UPDATE plan_feature AS f
        SET lokal_id = c.lokal_id,
            area_key = CASE
                WHEN c.lokal_id IS NOT NULL AND c.lokal_id_uses = 1 THEN c.lokal_id
                WHEN c.feltnavn <> '' AND c.feltnavn_uses = 1 THEN c.feltnavn
                WHEN c.source_id <> '' AND c.source_id_uses = 1 THEN c.source_id
                ELSE '#' || c.position
            END
        FROM counted AS c
        WHERE f.id = c.id
        """
    )
    op.alter_column("plan_feature", "area_key", nullable=False)
    op.add_column("check_finding", sa.Column("plan_feature_names", JSONB(), nullable=True))
    op.execute("UPDATE check_finding SET plan_feature_names = plan_feature_keys")
    # Findings of stored areas take the areas' new keys, and their fingerprints are made
    # again as spatial.rules.model.Finding.fingerprint makes them (Python sorts by code
    # point, as COLLATE "C" does for UTF-8), so the next version's findings match them.
    op.execute(
        """
        WITH area_keys AS (
            SELECT f.id,
                   jsonb_agg(a.area_key ORDER BY ids.ord) AS keys,
                   string_agg(a.area_key, ',' ORDER BY a.area_key COLLATE "C") AS sorted_keys
            FROM check_finding AS f
            CROSS JOIN LATERAL jsonb_array_elements_text(f.plan_feature_ids)
                WITH ORDINALITY AS ids(feature_id, ord)
            JOIN plan_feature AS a ON a.id = ids.feature_id::bigint
            GROUP BY f.id
            HAVING count(*) = max(jsonb_array_length(f.plan_feature_ids))
        ), layer_keys AS (
            SELECT f.id,
                   string_agg(
                       (r.ref ->> 'layer_id') || ':' || coalesce((
                           SELECT string_agg(k, ',' ORDER BY k COLLATE "C")
                           FROM jsonb_array_elements_text(r.ref -> 'feature_keys') AS k
                       ), ''),
                       ';' ORDER BY r.ord
                   ) AS layers
            FROM check_finding AS f
            CROSS JOIN LATERAL jsonb_array_elements(f.layer_refs) WITH ORDINALITY AS r(ref, ord)
            GROUP BY f.id
        )
        UPDATE check_finding AS f
        SET plan_feature_keys = a.keys,
            fingerprint = f.rule_id || '|' || f."check" || '|' || a.sorted_keys || '|'
                || coalesce(l.layers, '')
        FROM area_keys AS a
        LEFT JOIN layer_keys AS l ON l.id = a.id
        WHERE f.id = a.id
        """
    )
    op.alter_column("check_finding", "plan_feature_names", nullable=False)


def downgrade() -> None:
    op.drop_column("check_finding", "plan_feature_names")
    op.drop_column("plan_feature", "area_key")
    op.drop_column("plan_feature", "lokal_id")
