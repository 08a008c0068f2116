-- SLA warnings and breaches stored the time they fell due (details.due_at) as microseconds
-- since 1970 in a string; the API gives every time as RFC 3339. Rewrite the stored ones. The
-- timeline is append-only: its trigger is lifted for this one statement, in this transaction.
ALTER TABLE complaint_events DISABLE TRIGGER complaint_events_append_only;
UPDATE complaint_events
SET details = jsonb_set(details, '{due_at}', to_jsonb(to_char(
        to_timestamp((details->>'due_at')::numeric / 1000000) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')))
WHERE kind IN ('sla_warning', 'sla_breach') AND details->>'due_at' ~ '^[0-9]+$';
ALTER TABLE complaint_events ENABLE TRIGGER complaint_events_append_only;
