-- :vehicles vehicles of the dealer :dealer, each with its owner (one customer per vehicle, four in
-- five with an SMS consent, birthdays spread over the year), delivered over the last five and a
-- half years; those older than 300 days with three odometer readings, those older than 400 days
-- with a maintenance visit a year after delivery; insurance, inspection and warranty dates spread
-- over the coming year; one in 500 under an open recall. Ids are derived from the number
-- (vehicle n: 00000000-0000-0000-0007-<n in hex>), so scripts can address them. Triggers are off
-- while seeding (the forecast queue is filled in one statement at the end).
SET session_replication_role = replica;

INSERT INTO staff (dealer_id, id, name, function)
SELECT :'dealer'::uuid, ('00000000-0000-0000-0009-' || lpad(to_hex(i), 12, '0'))::uuid, '服务顾问' || i, 'service'
FROM generate_series(1, 30) AS i;

INSERT INTO customers (dealer_id, id, kind, name, surname, birthday, created_at, updated_at)
SELECT :'dealer'::uuid, ('00000000-0000-0000-0008-' || lpad(to_hex(i), 12, '0'))::uuid, 'person', '车主' || i, '王',
       DATE '1960-01-01' + ((i::bigint * 37) % 15000)::int, now(), now()
FROM generate_series(1, :vehicles) AS i;

INSERT INTO consent_events (dealer_id, id, customer_id, channel, status, effective_at, source)
SELECT :'dealer'::uuid, ('00000000-0000-0000-000a-' || lpad(to_hex(i), 12, '0'))::uuid,
       ('00000000-0000-0000-0008-' || lpad(to_hex(i), 12, '0'))::uuid, 'sms', 'granted', now(), 'showroom_form'
FROM generate_series(1, :vehicles) AS i WHERE i % 5 <> 0;
INSERT INTO consents (dealer_id, customer_id, channel, status, effective_at, source, event_id)
SELECT dealer_id, customer_id, channel, status, effective_at, source, id FROM consent_events WHERE dealer_id = :'dealer'::uuid;

INSERT INTO vehicles (dealer_id, id, vin, brand, series, delivery_date, warranty_end, insurance_expiry, inspection_due, open_recall,
    recall_opened_on, created_at, updated_at)
SELECT :'dealer'::uuid, ('00000000-0000-0000-0007-' || lpad(to_hex(i), 12, '0'))::uuid, 'LBV3A5109' || lpad(i::text, 8, '0'), 'BMW',
       (ARRAY['1系','2系','3系','4系','5系','X1','X3','X5'])[1 + i % 8], CURRENT_DATE - (i % 2000),
       CURRENT_DATE - (i % 2000) + 1095, CURRENT_DATE + ((i::bigint * 13) % 365)::int, CURRENT_DATE + ((i::bigint * 7) % 365)::int,
       i % 500 = 0, CASE WHEN i % 500 = 0 THEN CURRENT_DATE - (i % 30) END, now(), now()
FROM generate_series(1, :vehicles) AS i;

INSERT INTO vehicle_ownerships (dealer_id, id, vehicle_id, customer_id, owned_from, created_at)
SELECT :'dealer'::uuid, ('00000000-0000-0000-000b-' || lpad(to_hex(i), 12, '0'))::uuid,
       ('00000000-0000-0000-0007-' || lpad(to_hex(i), 12, '0'))::uuid, ('00000000-0000-0000-0008-' || lpad(to_hex(i), 12, '0'))::uuid,
       CURRENT_DATE - (i % 2000), now()
FROM generate_series(1, :vehicles) AS i;

-- Three readings: a month after delivery, 200 days after it, and within the last three months.
INSERT INTO odometer_readings (dealer_id, id, vehicle_id, read_on, km, source)
SELECT :'dealer'::uuid, gen_random_uuid(), ('00000000-0000-0000-0007-' || lpad(to_hex(i), 12, '0'))::uuid, r.read_on, r.km, 'service_visit'
FROM generate_series(1, :vehicles) AS i
CROSS JOIN LATERAL (VALUES
    (CURRENT_DATE - (i % 2000) + 30, 500 + i % 500),
    (CURRENT_DATE - (i % 2000) + 200, 4000 + i % 4000),
    (CURRENT_DATE - (i % 90), 4000 + i % 4000 + ((i % 2000) - 200 - (i % 90)) * (10 + i % 60))
) AS r(read_on, km)
WHERE i % 2000 >= 300;

INSERT INTO service_visits (dealer_id, id, vehicle_id, customer_id, repair_order_number, type, opened_at, closed_at, opened_on,
    currency, advisor_id, created_at, updated_at)
SELECT :'dealer'::uuid, ('00000000-0000-0000-000c-' || lpad(to_hex(i), 12, '0'))::uuid,
       ('00000000-0000-0000-0007-' || lpad(to_hex(i), 12, '0'))::uuid, ('00000000-0000-0000-0008-' || lpad(to_hex(i), 12, '0'))::uuid,
       'RO' || i, 'maintenance', (CURRENT_DATE - (i % 2000) + 365)::timestamp + interval '10 hours',
       (CURRENT_DATE - (i % 2000) + 365)::timestamp + interval '13 hours', CURRENT_DATE - (i % 2000) + 365, 'CNY',
       ('00000000-0000-0000-0009-' || lpad(to_hex(1 + i % 30), 12, '0'))::uuid, now(), now()
FROM generate_series(1, :vehicles) AS i
WHERE i % 2000 >= 400;

SET session_replication_role = DEFAULT;
INSERT INTO service_forecast_queue (dealer_id, vehicle_id) SELECT dealer_id, id FROM vehicles WHERE dealer_id = :'dealer'::uuid
ON CONFLICT DO NOTHING;
ANALYZE customers;
ANALYZE consents;
ANALYZE vehicles;
ANALYZE vehicle_ownerships;
ANALYZE odometer_readings;
ANALYZE service_visits;
