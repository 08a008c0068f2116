-- :complaints complaints of the dealer :dealer, spread like a busy dealer's: two years of intake,
-- 20 owners, nine channels and categories, four severities, half counted in business hours. One in
-- ten is open (taken in within the last fortnight, investigating, its next SLA event within the
-- coming week; one in a thousand of all is due now: what the escalation scan raises); the others
-- are closed after their satisfaction callback, four in five of them surveyed. Customers come
-- from seed.sql (ids 1..:customers).
INSERT INTO staff (dealer_id, id, name, function)
SELECT :'dealer'::uuid, ('00000000-0000-0000-0004-' || lpad(to_hex(i), 12, '0'))::uuid, '顾问' || i, 'service'
FROM generate_series(1, 20) AS i;

CREATE TEMP TABLE seed_complaints AS
SELECT i, md5('complaint' || i)::uuid AS id, lpad(to_hex(1 + i % :customers), 32, '0')::uuid AS customer_id,
       ('00000000-0000-0000-0004-' || lpad(to_hex(1 + i % 20), 12, '0'))::uuid AS owner_id,
       i % 10 = 0 AS open, i % 1000 = 0 AS due,
       CASE WHEN i % 10 = 0 THEN now() - make_interval(mins => ((i::bigint * 7919) % (14 * 24 * 60))::int)
            ELSE now() - make_interval(mins => ((i::bigint * 7919) % (730 * 24 * 60))::int) END AS created
FROM generate_series(1, :complaints) AS i;

INSERT INTO complaints (dealer_id, id, number, customer_id, channel, category, severity, description, status, owner_id,
    escalation_level, reopen_count, business_hours, acknowledge_sla_seconds, resolve_sla_seconds, acknowledge_due_at,
    acknowledge_warn_at, acknowledged_at, resolve_due_at, resolve_warn_at, resolve_remaining_seconds, resolved_at,
    active_seconds, active_since, next_sla_event_at, root_cause, remedy, customer_accepted, closed_at, created_at, updated_at)
SELECT :'dealer'::uuid, id, 'TS-' || i, customer_id,
       (ARRAY['showroom','dealer_hotline','oem_hotline','wechat','app','email_letter','social_media',
              'consumer_association','oem_forwarded'])[1 + i % 9],
       (ARRAY['sales_process','service_quality','repair_not_fixed','parts_availability','price_billing',
              'staff_attitude','waiting_time','vehicle_quality','other'])[1 + (i / 9) % 9],
       (ARRAY['low','normal','normal','high','critical'])[1 + i % 5], '保养后异响',
       CASE WHEN open THEN 'investigating' ELSE 'closed' END, owner_id,
       CASE WHEN i % 17 = 0 THEN 1 ELSE 0 END, CASE WHEN i % 23 = 0 THEN 1 ELSE 0 END,
       i % 2 = 0, 28800, 172800, created + interval '8 hours', created + interval '384 minutes',
       created + make_interval(mins => (i % 600)::int),
       CASE WHEN NOT open THEN NULL WHEN due THEN now() + interval '1 hour'
            ELSE now() + make_interval(mins => 60 + ((i::bigint * 31) % (7 * 24 * 60))::int) END,
       CASE WHEN NOT open THEN NULL WHEN due THEN now() - interval '1 minute'
            ELSE now() + make_interval(mins => ((i::bigint * 31) % (7 * 24 * 60))::int) END,
       CASE WHEN open THEN NULL ELSE 172800 - (i % 250000) END,
       CASE WHEN open THEN NULL ELSE created + make_interval(mins => 60 + (i % 5000)::int) END,
       CASE WHEN open THEN 0 ELSE 3600 + (i % 5000) * 60 END,
       CASE WHEN open THEN created END,
       CASE WHEN NOT open THEN NULL WHEN due THEN now() - interval '1 minute'
            ELSE now() + make_interval(mins => ((i::bigint * 31) % (7 * 24 * 60))::int) END,
       CASE WHEN open THEN NULL ELSE '原因' END, CASE WHEN open THEN NULL ELSE 'apology' END,
       CASE WHEN open THEN NULL ELSE true END,
       CASE WHEN open THEN NULL ELSE created + make_interval(mins => 1500 + (i % 5000)::int) END,
       created, created
FROM seed_complaints;

INSERT INTO callbacks (dealer_id, id, customer_id, purpose, complaint_id, once_key, due_date, window_starts_at,
    window_ends_at, served_by_id, status, attempts, completed_at, created_at, updated_at)
SELECT :'dealer'::uuid, md5('callback' || i)::uuid, customer_id, 'complaint_resolution', id, 'complaint:' || id || ':0',
       (created + interval '1 day')::date, date_trunc('day', created + interval '1 day'),
       date_trunc('day', created + interval '3 days'), owner_id, CASE WHEN i % 5 = 0 THEN 'unreachable' ELSE 'surveyed' END,
       CASE WHEN i % 5 = 0 THEN 3 ELSE 1 END, created + make_interval(mins => 1440 + (i % 3000)::int), created, created
FROM seed_complaints WHERE NOT open;

INSERT INTO call_attempts (dealer_id, id, callback_id, outcome, number_called, started_at, ended_at, caller_id, recorded_at)
SELECT :'dealer'::uuid, md5('attempt' || i)::uuid, md5('callback' || i)::uuid, 'reached', '+86138' || lpad((1 + i % :customers)::text, 8, '0'),
       created + interval '1 day', created + interval '1 day 4 minutes',
       ('00000000-0000-0000-0004-' || lpad(to_hex(1 + (i + 7) % 20), 12, '0'))::uuid, created + interval '1 day 5 minutes'
FROM seed_complaints WHERE NOT open AND i % 5 <> 0;

INSERT INTO surveys (dealer_id, id, callback_id, attempt_id, customer_id, purpose, complaint_id, caller_id, number_called,
    scores, csi, top_score, nps, flags, flagged, recorded_at)
SELECT :'dealer'::uuid, md5('survey' || i)::uuid, md5('callback' || i)::uuid, md5('attempt' || i)::uuid, customer_id,
       'complaint_resolution', id, ('00000000-0000-0000-0004-' || lpad(to_hex(1 + (i + 7) % 20), 12, '0'))::uuid,
       '+86138' || lpad((1 + i % :customers)::text, 8, '0'),
       jsonb_build_object('handling', 3 + i % 3, 'remedy', 3 + (i / 3) % 3, 'staff', 5),
       (3 + i % 3 + 3 + (i / 3) % 3 + 5) / 3.0, i % 3 = 2 AND (i / 3) % 3 = 2, (i % 11)::int2,
       CASE WHEN i % 50 = 1 THEN '[{"kind":"short_call","explanation":"seeded"}]'::jsonb ELSE '[]'::jsonb END, i % 50 = 1,
       created + interval '1 day 5 minutes'
FROM seed_complaints WHERE NOT open AND i % 5 <> 0;

ANALYZE complaints;
ANALYZE callbacks;
ANALYZE call_attempts;
ANALYZE surveys;
