-- Customers for the read benchmarks: ids and phones derived from 1..:customers.
INSERT INTO customers (dealer_id, id, kind, name, surname, gender, phone, birthday, address, tags)
SELECT :'dealer'::uuid, lpad(to_hex(i), 32, '0')::uuid, 'person', '客户' || i, '王', 'female',
       '+86138' || lpad(i::text, 8, '0'), DATE '1980-01-01' + (i % 9000), '{"city":"上海"}'::jsonb, '{vip}'
FROM generate_series(1, :customers) AS i;
CREATE SEQUENCE IF NOT EXISTS bench_phone;
ANALYZE customers;
