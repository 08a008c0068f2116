-- 0002: tenancy, access, customers, vehicles, consent, audit, idempotency.
--
-- Sharding plan (docs/SCALING.md): every dealer-owned table has dealer_id first in its
-- primary key and in every unique constraint and foreign key, so each can be distributed by
-- dealer_id on Citus and every dealer's rows colocate. oem_groups and dealers are small
-- reference tables; api_keys and idempotency_keys belong to callers, not to a dealer's data.

CREATE TABLE oem_groups (
    id          uuid PRIMARY KEY,
    name        text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 200),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    version     integer NOT NULL DEFAULT 1
);

CREATE TABLE dealers (
    id          uuid PRIMARY KEY,
    group_id    uuid NOT NULL REFERENCES oem_groups (id),
    name        text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 200),
    brands      text[] NOT NULL DEFAULT '{}',
    region      text,
    time_zone   text NOT NULL DEFAULT 'Asia/Shanghai',
    settings    jsonb NOT NULL DEFAULT '{}',
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    version     integer NOT NULL DEFAULT 1
);
CREATE INDEX dealers_group ON dealers (group_id, name, id);
CREATE TRIGGER dealers_touch BEFORE UPDATE ON dealers FOR EACH ROW EXECUTE FUNCTION crm_touch_updated_at();

CREATE TABLE staff (
    dealer_id   uuid NOT NULL REFERENCES dealers (id),
    id          uuid NOT NULL,
    name        text NOT NULL,
    function    text NOT NULL CHECK (function IN ('sales', 'service', 'crm', 'manager')),
    phone       text,
    email       text,
    active      boolean NOT NULL DEFAULT true,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    version     integer NOT NULL DEFAULT 1,
    PRIMARY KEY (dealer_id, id)
);
CREATE INDEX staff_list ON staff (dealer_id, name, id);
CREATE TRIGGER staff_touch BEFORE UPDATE ON staff FOR EACH ROW EXECUTE FUNCTION crm_touch_updated_at();

-- Keys are stored only as SHA-256 of the secret; `prefix` is what lists show.
CREATE TABLE api_keys (
    id                uuid PRIMARY KEY,
    group_id          uuid NOT NULL REFERENCES oem_groups (id),
    dealer_id         uuid REFERENCES dealers (id),
    role              text NOT NULL CHECK (role IN ('admin', 'manager', 'sales', 'service', 'crm', 'readonly', 'integration')),
    name              text NOT NULL,
    prefix            text NOT NULL,
    secret_hash       bytea NOT NULL UNIQUE,
    staff_id          uuid,
    created_at        timestamptz NOT NULL DEFAULT now(),
    created_by_key_id uuid,
    expires_at        timestamptz,
    revoked_at        timestamptz,
    last_used_at      timestamptz,
    CHECK (staff_id IS NULL OR dealer_id IS NOT NULL),
    FOREIGN KEY (dealer_id, staff_id) REFERENCES staff (dealer_id, id)
);
CREATE INDEX api_keys_owner ON api_keys (group_id, dealer_id, created_at, id);

CREATE TABLE customers (
    dealer_id             uuid NOT NULL REFERENCES dealers (id),
    id                    uuid NOT NULL,
    kind                  text NOT NULL CHECK (kind IN ('person', 'company')),
    name                  text NOT NULL,
    surname               text,
    gender                text CHECK (gender IN ('male', 'female', 'unknown')),
    phone                 text,
    email                 text,
    birthday              date,
    address               jsonb,
    occupation            text,
    employer              text,
    income_band           text,
    hobbies               text[] NOT NULL DEFAULT '{}',
    marital_status        text,
    children              integer CHECK (children BETWEEN 0 AND 20),
    fleet_category        text,
    fleet_agreement_ends  date,
    preferred_brands      text[] NOT NULL DEFAULT '{}',
    preferences           jsonb NOT NULL DEFAULT '{}',
    tags                  text[] NOT NULL DEFAULT '{}',
    notes                 text,
    erased_at             timestamptz,
    deleted_at            timestamptz,
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now(),
    version               integer NOT NULL DEFAULT 1,
    PRIMARY KEY (dealer_id, id)
);
-- One customer per phone per dealer (deleted customers release their number).
CREATE UNIQUE INDEX customers_phone ON customers (dealer_id, phone) WHERE phone IS NOT NULL AND deleted_at IS NULL;
-- Name prefix search (Chinese characters included): byte order, lower-cased.
CREATE INDEX customers_name ON customers (dealer_id, (lower(name)) COLLATE "C", id) WHERE deleted_at IS NULL;
-- Default list order: newest first.
CREATE INDEX customers_created ON customers (dealer_id, created_at DESC, id DESC) WHERE deleted_at IS NULL;
CREATE INDEX customers_tags ON customers USING gin (tags) WHERE deleted_at IS NULL;
CREATE TRIGGER customers_touch BEFORE UPDATE ON customers FOR EACH ROW EXECUTE FUNCTION crm_touch_updated_at();

CREATE TABLE vehicles (
    dealer_id      uuid NOT NULL REFERENCES dealers (id),
    id             uuid NOT NULL,
    vin            text NOT NULL CHECK (vin ~ '^[A-HJ-NPR-Z0-9]{17}$'),
    plate          text,
    brand          text NOT NULL,
    series         text,
    model          text,
    model_year     integer CHECK (model_year BETWEEN 1950 AND 2100),
    colour         text,
    delivery_date  date,
    warranty_end   date,
    open_recall    boolean NOT NULL DEFAULT false,
    deleted_at     timestamptz,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    version        integer NOT NULL DEFAULT 1,
    PRIMARY KEY (dealer_id, id)
);
CREATE UNIQUE INDEX vehicles_vin ON vehicles (dealer_id, vin) WHERE deleted_at IS NULL;
CREATE INDEX vehicles_plate ON vehicles (dealer_id, plate) WHERE deleted_at IS NULL AND plate IS NOT NULL;
CREATE INDEX vehicles_created ON vehicles (dealer_id, created_at DESC, id DESC) WHERE deleted_at IS NULL;
CREATE TRIGGER vehicles_touch BEFORE UPDATE ON vehicles FOR EACH ROW EXECUTE FUNCTION crm_touch_updated_at();

-- Who owned a vehicle when; at most one open ownership per vehicle.
CREATE TABLE vehicle_ownerships (
    dealer_id    uuid NOT NULL,
    id           uuid NOT NULL,
    vehicle_id   uuid NOT NULL,
    customer_id  uuid NOT NULL,
    owned_from   date NOT NULL,
    owned_to     date,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (dealer_id, id),
    FOREIGN KEY (dealer_id, vehicle_id) REFERENCES vehicles (dealer_id, id),
    FOREIGN KEY (dealer_id, customer_id) REFERENCES customers (dealer_id, id),
    CHECK (owned_to IS NULL OR owned_to >= owned_from)
);
CREATE UNIQUE INDEX vehicle_ownerships_current ON vehicle_ownerships (dealer_id, vehicle_id) WHERE owned_to IS NULL;
CREATE INDEX vehicle_ownerships_vehicle ON vehicle_ownerships (dealer_id, vehicle_id, owned_from DESC);
CREATE INDEX vehicle_ownerships_customer ON vehicle_ownerships (dealer_id, customer_id);

-- The odometer is a history of readings, never one overwritten number.
CREATE TABLE odometer_readings (
    dealer_id      uuid NOT NULL,
    id             uuid NOT NULL,
    vehicle_id     uuid NOT NULL,
    read_on        date NOT NULL,
    km             integer NOT NULL CHECK (km BETWEEN 0 AND 3000000),
    source         text NOT NULL,
    recorded_at    timestamptz NOT NULL DEFAULT now(),
    recorded_by    uuid,
    PRIMARY KEY (dealer_id, id),
    FOREIGN KEY (dealer_id, vehicle_id) REFERENCES vehicles (dealer_id, id)
);
CREATE INDEX odometer_readings_vehicle ON odometer_readings (dealer_id, vehicle_id, read_on DESC, recorded_at DESC, id DESC);

-- Consent: the full history of changes, and the current state per channel.
CREATE TABLE consent_events (
    dealer_id       uuid NOT NULL,
    id              uuid NOT NULL,
    customer_id     uuid NOT NULL,
    channel         text NOT NULL CHECK (channel IN ('sms', 'phone', 'email', 'wechat', 'mail')),
    status          text NOT NULL CHECK (status IN ('granted', 'withdrawn')),
    effective_at    timestamptz NOT NULL,
    source          text NOT NULL,
    note            text,
    actor_key_id    uuid,
    actor_staff_id  uuid,
    recorded_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (dealer_id, id),
    FOREIGN KEY (dealer_id, customer_id) REFERENCES customers (dealer_id, id)
);
CREATE INDEX consent_events_customer ON consent_events (dealer_id, customer_id, recorded_at DESC, id DESC);

CREATE TABLE consents (
    dealer_id     uuid NOT NULL,
    customer_id   uuid NOT NULL,
    channel       text NOT NULL,
    status        text NOT NULL,
    effective_at  timestamptz NOT NULL,
    source        text NOT NULL,
    event_id      uuid NOT NULL,
    PRIMARY KEY (dealer_id, customer_id, channel),
    FOREIGN KEY (dealer_id, customer_id) REFERENCES customers (dealer_id, id),
    FOREIGN KEY (dealer_id, event_id) REFERENCES consent_events (dealer_id, id)
);

-- Who changed what, when: contact fields, consent, deletions, erasures.
CREATE TABLE audit_events (
    dealer_id       uuid NOT NULL,
    id              uuid NOT NULL,
    customer_id     uuid,
    entity          text NOT NULL,
    entity_id       uuid NOT NULL,
    action          text NOT NULL,
    changes         jsonb NOT NULL DEFAULT '[]',
    actor_key_id    uuid,
    actor_staff_id  uuid,
    actor_role      text,
    request_id      text,
    at              timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (dealer_id, id)
);
CREATE INDEX audit_events_customer ON audit_events (dealer_id, customer_id, at DESC, id DESC);

-- Idempotency-Key records, per calling key; replayed for 24 hours.
CREATE TABLE idempotency_keys (
    owner_id        uuid NOT NULL,
    api_key_id      uuid NOT NULL,
    key             text NOT NULL,
    request_hash    bytea NOT NULL,
    state           text NOT NULL CHECK (state IN ('in_progress', 'completed')),
    status_code     integer,
    response_headers jsonb,
    response_body   bytea,
    created_at      timestamptz NOT NULL DEFAULT now(),
    expires_at      timestamptz NOT NULL DEFAULT now() + interval '24 hours',
    PRIMARY KEY (owner_id, api_key_id, key)
);
CREATE INDEX idempotency_keys_expiry ON idempotency_keys (expires_at);
