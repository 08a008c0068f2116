-- 0001: helpers every later table uses.

-- Keeps updated_at honest on every UPDATE, whoever issues it.
CREATE FUNCTION crm_touch_updated_at() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END;
$$;
