-- :leads leads for the dealer :dealer, spread like a busy dealer's: two years of capture, 40
-- consultants (and the pool), eleven channels, eight series; 60% open with planned contacts from a
-- month ago to a month ahead (about half of them overdue), the rest won or lost. Won leads share
-- one customer and one vehicle (the sale rows are not what is measured).
INSERT INTO staff (dealer_id, id, name, function)
SELECT :'dealer'::uuid, ('00000000-0000-0000-0001-' || lpad(to_hex(i), 12, '0'))::uuid, '顾问' || i, 'sales'
FROM generate_series(1, 40) AS i;
INSERT INTO customers (dealer_id, id, kind, name) VALUES (:'dealer'::uuid, '00000000-0000-0000-0002-000000000001', 'person', '成交客户');
INSERT INTO vehicles (dealer_id, id, vin, brand) VALUES (:'dealer'::uuid, '00000000-0000-0000-0003-000000000001', 'LBV3A5102SM000001', 'BMW');
CREATE SEQUENCE IF NOT EXISTS bench_lead_phone;
INSERT INTO leads (dealer_id, id, surname, gender, phone, party, customer_type, current_brand, current_model,
    interest_series, interest_model, competitor_models, intended_purchase_date, channel, status, consultant_id,
    assigned_at, last_contact_at, last_contact_result, next_contact_date, customer_id, vehicle_id, sale_price_minor,
    sale_currency, delivery_date, won_at, lost_at, loss_reason, created_at)
SELECT :'dealer'::uuid, gen_random_uuid(), '王', CASE WHEN i % 2 = 0 THEN 'male' ELSE 'female' END,
       '+86139' || lpad(i::text, 8, '0'), 'individual', 'replacement', 'Audi', 'A4L',
       (ARRAY['1系','2系','3系','4系','5系','X1','X3','X5'])[1 + i % 8], 'model',
       CASE WHEN i % 3 = 0 THEN ARRAY['Benz C'] ELSE '{}'::text[] END,
       CURRENT_DATE + (i % 500), channel, status,
       CASE WHEN i % 10 = 0 THEN NULL ELSE ('00000000-0000-0000-0001-' || lpad(to_hex(1 + i % 40), 12, '0'))::uuid END,
       CASE WHEN i % 10 = 0 THEN NULL ELSE created END, created + interval '1 day', '联系过',
       CASE WHEN status IN ('won', 'lost') THEN NULL ELSE CURRENT_DATE + (i % 61) - 30 END,
       CASE WHEN status = 'won' THEN '00000000-0000-0000-0002-000000000001'::uuid END,
       CASE WHEN status = 'won' THEN '00000000-0000-0000-0003-000000000001'::uuid END,
       CASE WHEN status = 'won' THEN 30000000 END, CASE WHEN status = 'won' THEN 'CNY' END,
       CASE WHEN status = 'won' THEN (created + interval '30 days')::date END,
       CASE WHEN status = 'won' THEN created + interval '30 days' END,
       CASE WHEN status = 'lost' THEN created + interval '20 days' END,
       CASE WHEN status = 'lost' THEN 'price' END,
       created
FROM (
    SELECT i, now() - make_interval(mins => ((i::bigint * 7919) % (730 * 24 * 60))::int) AS created,
           (ARRAY['showroom','own_prospecting','telemarketing','referral','key_account','secondary_dealer',
                  'marketing_event','advertising','brand_partnership','purchased_data','online'])[1 + i % 11] AS channel,
           CASE WHEN i % 20 < 12 THEN (ARRAY['new','contacted','visited','test_drive','negotiating'])[1 + i % 5]
                WHEN i % 20 < 17 THEN 'lost' ELSE 'won' END AS status
    FROM generate_series(1, :leads) AS i
) AS g;
ANALYZE leads;
