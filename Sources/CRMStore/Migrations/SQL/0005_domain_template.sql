-- 0005: the domain template. Business time comes from the service's clock; qualification
-- follows LeadRules again; audit entries and consent events keep their order within a
-- transaction; a secret every process of the service shares signs list cursors.

-- Gender counts for an individual only: a company lead has none and can still be qualified
-- (LeadRules.missingFields; a test checks the two agree).
ALTER TABLE leads DROP COLUMN qualified;
ALTER TABLE leads ADD COLUMN qualified boolean GENERATED ALWAYS AS (coalesce(
    consultant_id IS NOT NULL AND customer_type IS NOT NULL AND party IS NOT NULL
    AND (party = 'company' OR gender IN ('male', 'female')) AND surname IS NOT NULL AND phone IS NOT NULL
    AND (customer_type = 'first_purchase' OR (current_brand IS NOT NULL AND current_model IS NOT NULL))
    AND intended_purchase_date IS NOT NULL
    AND interest_series IS NOT NULL AND interest_model IS NOT NULL
    AND last_contact_result IS NOT NULL AND next_contact_date IS NOT NULL, false)) STORED;

-- Repositories stamp updated_at with the clock's time; the trigger only fills it in for a
-- statement that did not (a hand-run fix, say).
CREATE OR REPLACE FUNCTION crm_touch_updated_at() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.updated_at IS NOT DISTINCT FROM OLD.updated_at THEN
        NEW.updated_at := now();
    END IF;
    RETURN NEW;
END;
$$;

-- Entries written by one transaction share the clock's instant; `seq` keeps their order.
ALTER TABLE audit_events ADD COLUMN seq bigint GENERATED ALWAYS AS IDENTITY;
DROP INDEX audit_events_customer;
CREATE INDEX audit_events_customer ON audit_events (dealer_id, customer_id, at DESC, seq DESC);
ALTER TABLE consent_events ADD COLUMN seq bigint GENERATED ALWAYS AS IDENTITY;
DROP INDEX consent_events_customer;
CREATE INDEX consent_events_customer ON consent_events (dealer_id, customer_id, recorded_at DESC, seq DESC);

-- Secrets of the service, shared by all its processes: `cursor_signing` signs the list cursors
-- clients get back (HMAC-SHA256), so a cursor that comes back is one the service made.
CREATE TABLE service_secrets (
    name        text PRIMARY KEY,
    value       bytea NOT NULL CHECK (length(value) >= 16),
    created_at  timestamptz NOT NULL DEFAULT now()
);
-- 244 random bits (two version-4 UUIDs).
INSERT INTO service_secrets (name, value)
VALUES ('cursor_signing', decode(replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', ''), 'hex'));
