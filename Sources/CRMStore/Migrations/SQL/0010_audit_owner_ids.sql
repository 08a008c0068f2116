-- A vehicle's change of owner was audited with the customer ids in upper case (Foundation's
-- uuidString); every other id the API writes, and every id it reads back, is lower case. Rewrite
-- the stored entries so that a client can compare them with the ids it holds. Only the "owner"
-- field of vehicle entries is touched; the order of the changes is kept.
UPDATE audit_events a
SET changes = (
    SELECT jsonb_agg(
               CASE WHEN change->>'field' = 'owner'
                    THEN jsonb_strip_nulls(jsonb_build_object(
                             'field', 'owner', 'old', lower(change->>'old'), 'new', lower(change->>'new')))
                    ELSE change END
               ORDER BY position)
    FROM jsonb_array_elements(a.changes) WITH ORDINALITY AS c(change, position))
WHERE a.entity = 'vehicle'
  AND a.changes @> '[{"field": "owner"}]'
  AND a.changes::text <> lower(a.changes::text);
