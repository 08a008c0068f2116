-- 0007: service visits (repair orders), maintenance schedules, each vehicle's service forecast,
-- reminders with their suppression reasons, call tasks, and the scans that made them. Vehicles
-- gain insurance-expiry and inspection-due dates and the date their open recall began.

ALTER TABLE vehicles
    ADD COLUMN insurance_expiry date,
    ADD COLUMN inspection_due date,
    -- When the open recall began (its notice is due then, once per recall).
    ADD COLUMN recall_opened_on date;
UPDATE vehicles SET recall_opened_on = (created_at AT TIME ZONE 'UTC')::date WHERE open_recall;

CREATE TABLE service_visits (
    dealer_id            uuid NOT NULL REFERENCES dealers (id),
    id                   uuid NOT NULL,
    vehicle_id           uuid NOT NULL,
    customer_id          uuid NOT NULL,
    -- The DMS repair-order number: one visit per number and dealer (a DMS resending it updates it).
    repair_order_number  text NOT NULL,
    type                 text NOT NULL CHECK (type IN (
                             'maintenance', 'first_service', 'repair', 'warranty', 'accident', 'inspection',
                             'recall_campaign')),
    opened_at            timestamptz NOT NULL,
    closed_at            timestamptz,
    -- The dealer's calendar date of opened_at (reports and the scan compare dates).
    opened_on            date NOT NULL,
    odometer_km          integer CHECK (odometer_km BETWEEN 0 AND 3000000),
    line_items           jsonb NOT NULL DEFAULT '[]',
    total_minor          bigint NOT NULL DEFAULT 0 CHECK (total_minor >= 0),
    currency             text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    advisor_id           uuid,
    notes                text,
    created_at           timestamptz NOT NULL,
    updated_at           timestamptz NOT NULL,
    version              integer NOT NULL DEFAULT 1,
    PRIMARY KEY (dealer_id, id),
    UNIQUE (dealer_id, repair_order_number),
    FOREIGN KEY (dealer_id, vehicle_id) REFERENCES vehicles (dealer_id, id),
    FOREIGN KEY (dealer_id, customer_id) REFERENCES customers (dealer_id, id),
    FOREIGN KEY (dealer_id, advisor_id) REFERENCES staff (dealer_id, id),
    CHECK (closed_at IS NULL OR closed_at >= opened_at)
);
CREATE INDEX service_visits_vehicle ON service_visits (dealer_id, vehicle_id, opened_on DESC, id DESC);
CREATE INDEX service_visits_customer ON service_visits (dealer_id, customer_id, opened_on DESC, id DESC);
CREATE INDEX service_visits_advisor ON service_visits (dealer_id, advisor_id, opened_on DESC) WHERE advisor_id IS NOT NULL;
CREATE INDEX service_visits_opened ON service_visits (dealer_id, opened_at DESC, id DESC);
CREATE TRIGGER service_visits_touch BEFORE UPDATE ON service_visits FOR EACH ROW EXECUTE FUNCTION crm_touch_updated_at();

-- Per dealer, brand and series (NULLs: the dealer-wide default; a brand alone: its series).
CREATE TABLE maintenance_schedules (
    dealer_id        uuid NOT NULL REFERENCES dealers (id),
    id               uuid NOT NULL,
    brand            text,
    series           text,
    first_km         integer NOT NULL,
    first_months     integer NOT NULL,
    interval_km      integer NOT NULL,
    interval_months  integer NOT NULL,
    updated_at       timestamptz NOT NULL,
    PRIMARY KEY (dealer_id, id),
    CHECK (series IS NULL OR brand IS NOT NULL)
);
CREATE UNIQUE INDEX maintenance_schedules_scope
    ON maintenance_schedules (dealer_id, lower(coalesce(brand, '')), lower(coalesce(series, '')));

-- Each vehicle's next maintenance as ServiceForecasting computed it, its last visit and the day
-- it becomes dormant (ReminderRules.dormantDue): what the daily scan reads. Recomputed in Swift for
-- the vehicles in service_forecast_queue, which triggers fill when a vehicle, a reading or a visit
-- changes (and the services fill when a schedule or the dealer's settings change).
CREATE TABLE service_forecasts (
    dealer_id        uuid NOT NULL,
    vehicle_id       uuid NOT NULL,
    step             text NOT NULL CHECK (step IN ('first_service', 'maintenance')),
    due_date         date,
    due_km           integer NOT NULL,
    km_per_day       double precision NOT NULL,
    rate_source      text NOT NULL,
    basis            text,
    base_date        date,
    base_km          integer NOT NULL,
    last_reading_on  date,
    last_reading_km  integer,
    last_visit_on    date,
    last_advisor_id  uuid,
    dormant_on       date,
    computed_at      timestamptz NOT NULL,
    PRIMARY KEY (dealer_id, vehicle_id),
    FOREIGN KEY (dealer_id, vehicle_id) REFERENCES vehicles (dealer_id, id)
);
CREATE INDEX service_forecasts_due ON service_forecasts (dealer_id, due_date) WHERE due_date IS NOT NULL;
CREATE INDEX service_forecasts_dormant ON service_forecasts (dealer_id, dormant_on) WHERE dormant_on IS NOT NULL;

CREATE TABLE service_forecast_queue (
    dealer_id   uuid NOT NULL,
    vehicle_id  uuid NOT NULL,
    PRIMARY KEY (dealer_id, vehicle_id)
);
CREATE FUNCTION crm_forecast_stale() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'vehicles' THEN
        INSERT INTO service_forecast_queue VALUES (NEW.dealer_id, NEW.id) ON CONFLICT DO NOTHING;
    ELSE
        INSERT INTO service_forecast_queue VALUES (NEW.dealer_id, NEW.vehicle_id) ON CONFLICT DO NOTHING;
        IF TG_OP = 'UPDATE' AND OLD.vehicle_id <> NEW.vehicle_id THEN
            INSERT INTO service_forecast_queue VALUES (OLD.dealer_id, OLD.vehicle_id) ON CONFLICT DO NOTHING;
        END IF;
    END IF;
    RETURN NULL;
END;
$$;
CREATE TRIGGER vehicles_forecast AFTER INSERT OR UPDATE OF brand, series, delivery_date ON vehicles
    FOR EACH ROW EXECUTE FUNCTION crm_forecast_stale();
CREATE TRIGGER odometer_readings_forecast AFTER INSERT ON odometer_readings
    FOR EACH ROW EXECUTE FUNCTION crm_forecast_stale();
CREATE TRIGGER service_visits_forecast AFTER INSERT OR UPDATE OF vehicle_id, type, opened_at, odometer_km, advisor_id
    ON service_visits FOR EACH ROW EXECUTE FUNCTION crm_forecast_stale();
INSERT INTO service_forecast_queue SELECT dealer_id, id FROM vehicles WHERE deleted_at IS NULL;

-- The other dated reminders read the vehicles' own dates.
CREATE INDEX vehicles_insurance_expiry ON vehicles (dealer_id, insurance_expiry) WHERE deleted_at IS NULL AND insurance_expiry IS NOT NULL;
CREATE INDEX vehicles_inspection_due ON vehicles (dealer_id, inspection_due) WHERE deleted_at IS NULL AND inspection_due IS NOT NULL;
CREATE INDEX vehicles_warranty_end ON vehicles (dealer_id, warranty_end) WHERE deleted_at IS NULL AND warranty_end IS NOT NULL;
CREATE INDEX vehicles_recall_opened ON vehicles (dealer_id, recall_opened_on) WHERE deleted_at IS NULL AND open_recall;
-- Birthdays by month and day (the scan passes the days its window covers).
CREATE INDEX customers_birthday ON customers (dealer_id, ((date_part('month', birthday) * 100 + date_part('day', birthday))::int))
    WHERE deleted_at IS NULL AND birthday IS NOT NULL;

CREATE TABLE reminders (
    dealer_id           uuid NOT NULL REFERENCES dealers (id),
    id                  uuid NOT NULL,
    customer_id         uuid NOT NULL,
    vehicle_id          uuid,
    -- The vehicle, or the customer for a customer's reminder: one reminder per target, kind,
    -- due date and touch, whatever reruns or workers.
    target_id           uuid NOT NULL,
    kind                text NOT NULL CHECK (kind IN (
                            'maintenance', 'first_service', 'birthday', 'insurance_renewal', 'annual_inspection',
                            'warranty_expiry', 'dormant_recall', 'recall_notice')),
    due_date            date NOT NULL,
    touch               smallint NOT NULL DEFAULT 1 CHECK (touch IN (1, 2)),
    send_date           date NOT NULL,
    channel             text CHECK (channel IN ('sms', 'phone', 'email', 'wechat', 'mail')),
    status              text NOT NULL CHECK (status IN (
                            'pending', 'suppressed', 'held_back', 'queued', 'sent', 'responded', 'expired')),
    reason              text,
    reason_detail       text,
    data                jsonb NOT NULL DEFAULT '{}',
    advisor_id          uuid,
    call_task_id        uuid,
    responded_visit_id  uuid,
    queued_at           timestamptz,
    created_at          timestamptz NOT NULL,
    updated_at          timestamptz NOT NULL,
    PRIMARY KEY (dealer_id, id),
    UNIQUE (dealer_id, target_id, kind, due_date, touch),
    FOREIGN KEY (dealer_id, customer_id) REFERENCES customers (dealer_id, id),
    FOREIGN KEY (dealer_id, vehicle_id) REFERENCES vehicles (dealer_id, id),
    CHECK (status <> 'suppressed' OR reason IS NOT NULL)
);
-- The send step: pending reminders whose day has come.
CREATE INDEX reminders_pending ON reminders (dealer_id, send_date) WHERE status = 'pending';
CREATE INDEX reminders_customer ON reminders (dealer_id, customer_id, created_at DESC);
CREATE INDEX reminders_vehicle ON reminders (dealer_id, vehicle_id, created_at DESC) WHERE vehicle_id IS NOT NULL;
CREATE INDEX reminders_due ON reminders (dealer_id, due_date, id);
CREATE TRIGGER reminders_touch BEFORE UPDATE ON reminders FOR EACH ROW EXECUTE FUNCTION crm_touch_updated_at();

CREATE TABLE call_tasks (
    dealer_id     uuid NOT NULL REFERENCES dealers (id),
    id            uuid NOT NULL,
    reminder_id   uuid NOT NULL,
    customer_id   uuid NOT NULL,
    vehicle_id    uuid,
    kind          text NOT NULL,
    advisor_id    uuid,
    due_date      date NOT NULL,
    status        text NOT NULL CHECK (status IN ('open', 'done')),
    outcome       text CHECK (outcome IN ('reached', 'booked', 'declined', 'no_answer', 'wrong_number')),
    booked_date   date,
    attempts      integer NOT NULL DEFAULT 0,
    notes         text,
    visit_id      uuid,
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL,
    version       integer NOT NULL DEFAULT 1,
    PRIMARY KEY (dealer_id, id),
    UNIQUE (dealer_id, reminder_id),
    FOREIGN KEY (dealer_id, reminder_id) REFERENCES reminders (dealer_id, id),
    FOREIGN KEY (dealer_id, customer_id) REFERENCES customers (dealer_id, id),
    FOREIGN KEY (dealer_id, advisor_id) REFERENCES staff (dealer_id, id),
    CHECK (outcome <> 'booked' OR booked_date IS NOT NULL)
);
CREATE INDEX call_tasks_open ON call_tasks (dealer_id, advisor_id, due_date, id) WHERE status = 'open';
CREATE INDEX call_tasks_vehicle_booked ON call_tasks (dealer_id, vehicle_id) WHERE outcome = 'booked' AND visit_id IS NULL;
CREATE INDEX call_tasks_created ON call_tasks (dealer_id, created_at DESC, id DESC);
CREATE TRIGGER call_tasks_touch BEFORE UPDATE ON call_tasks FOR EACH ROW EXECUTE FUNCTION crm_touch_updated_at();

-- One row per dealer and day the scan ran (what it found), for operators.
CREATE TABLE reminder_scans (
    dealer_id    uuid NOT NULL REFERENCES dealers (id),
    scan_date    date NOT NULL,
    started_at   timestamptz NOT NULL,
    finished_at  timestamptz,
    candidates   integer NOT NULL DEFAULT 0,
    created      integer NOT NULL DEFAULT 0,
    PRIMARY KEY (dealer_id, scan_date)
);

-- The version of each dealer's settings its forecasts were computed with (a change of the default
-- km per day or the dormant months recomputes them all).
CREATE TABLE reminder_dealer_state (
    dealer_id      uuid PRIMARY KEY REFERENCES dealers (id),
    settings_seen  timestamptz NOT NULL
);
