-- 0006: complaints with their SLA clocks and append-only timeline; satisfaction callbacks, their
-- call attempts and surveys; survey question sets. Every table is dealer-owned: dealer_id leads
-- its primary key, unique constraints and foreign keys (docs/SCALING.md).

-- The readable numbers: one counter per dealer and year (TS-2026-000123).
CREATE TABLE complaint_numbers (
    dealer_id  uuid NOT NULL REFERENCES dealers (id),
    year       integer NOT NULL,
    last       integer NOT NULL,
    PRIMARY KEY (dealer_id, year)
);

CREATE TABLE complaints (
    dealer_id                   uuid NOT NULL REFERENCES dealers (id),
    id                          uuid NOT NULL,
    number                      text NOT NULL,
    customer_id                 uuid NOT NULL,
    vehicle_id                  uuid,
    -- The service visit (repair order) it is about; visits are a later migration's table.
    service_visit_id            uuid,
    lead_id                     uuid,
    channel                     text NOT NULL CHECK (channel IN (
                                    'showroom', 'dealer_hotline', 'oem_hotline', 'wechat', 'app', 'email_letter',
                                    'social_media', 'consumer_association', 'oem_forwarded')),
    category                    text NOT NULL CHECK (category IN (
                                    'sales_process', 'service_quality', 'repair_not_fixed', 'parts_availability',
                                    'price_billing', 'staff_attitude', 'waiting_time', 'vehicle_quality', 'other')),
    severity                    text NOT NULL CHECK (severity IN ('low', 'normal', 'high', 'critical')),
    safety_related              boolean NOT NULL DEFAULT false,
    media_risk                  boolean NOT NULL DEFAULT false,
    description                 text NOT NULL,
    customer_request            text,
    status                      text NOT NULL CHECK (status IN (
                                    'new', 'acknowledged', 'investigating', 'waiting_on_customer', 'resolved', 'closed')),
    owner_id                    uuid,
    escalation_level            smallint NOT NULL DEFAULT 0 CHECK (escalation_level BETWEEN 0 AND 3),
    reopen_count                integer NOT NULL DEFAULT 0,
    -- The SLA clocks (ComplaintClock; ComplaintRules decides, these columns keep what it said).
    business_hours              boolean NOT NULL,
    acknowledge_sla_seconds     double precision NOT NULL,
    resolve_sla_seconds         double precision NOT NULL,
    acknowledge_due_at          timestamptz NOT NULL,
    acknowledge_warn_at         timestamptz NOT NULL,
    acknowledged_at             timestamptz,
    resolve_due_at              timestamptz,
    resolve_warn_at             timestamptz,
    resolve_remaining_seconds   double precision,
    resolved_at                 timestamptz,
    active_seconds              double precision NOT NULL DEFAULT 0,
    active_since                timestamptz,
    sla_raised                  text[] NOT NULL DEFAULT '{}',
    -- When the escalation scan next has something to do for it (NULL: nothing can come).
    next_sla_event_at           timestamptz,
    -- The resolution.
    root_cause                  text,
    remedy                      text CHECK (remedy IN (
                                    'apology', 'repair', 'refund', 'goodwill_voucher', 'part_replacement', 'other')),
    cost_minor                  bigint CHECK (cost_minor >= 0),
    cost_currency               text CHECK (cost_currency ~ '^[A-Z]{3}$'),
    customer_accepted           boolean,
    resolution_note             text,
    closed_at                   timestamptz,
    created_at                  timestamptz NOT NULL,
    updated_at                  timestamptz NOT NULL,
    version                     integer NOT NULL DEFAULT 1,
    PRIMARY KEY (dealer_id, id),
    UNIQUE (dealer_id, number),
    FOREIGN KEY (dealer_id, customer_id) REFERENCES customers (dealer_id, id),
    FOREIGN KEY (dealer_id, vehicle_id) REFERENCES vehicles (dealer_id, id),
    FOREIGN KEY (dealer_id, lead_id) REFERENCES leads (dealer_id, id),
    FOREIGN KEY (dealer_id, owner_id) REFERENCES staff (dealer_id, id),
    CHECK (status NOT IN ('resolved', 'closed') OR (resolved_at IS NOT NULL AND root_cause IS NOT NULL AND remedy IS NOT NULL)),
    CHECK (status <> 'closed' OR closed_at IS NOT NULL)
);
-- The escalation scan, over every dealer: the complaints with something due, earliest first.
CREATE INDEX complaints_sla_due ON complaints (next_sla_event_at) WHERE next_sla_event_at IS NOT NULL;
CREATE INDEX complaints_created ON complaints (dealer_id, created_at DESC, id DESC);
-- "May this customer receive marketing?": his open complaints.
CREATE INDEX complaints_customer_open ON complaints (dealer_id, customer_id)
    WHERE status IN ('new', 'acknowledged', 'investigating', 'waiting_on_customer');
-- A group's escalated list.
CREATE INDEX complaints_escalated ON complaints (dealer_id, escalation_level, created_at DESC, id DESC)
    WHERE escalation_level > 0;
CREATE TRIGGER complaints_touch BEFORE UPDATE ON complaints FOR EACH ROW EXECUTE FUNCTION crm_touch_updated_at();

-- The timeline: every action on a complaint, who and when. Append-only: entries are never
-- changed or deleted (a trigger refuses it), except that erasing a customer blanks the notes of
-- his complaints' entries (the erasure sets crm.erasing for its transaction).
CREATE TABLE complaint_events (
    dealer_id       uuid NOT NULL,
    id              uuid NOT NULL,
    complaint_id    uuid NOT NULL,
    kind            text NOT NULL,
    from_status     text,
    to_status       text,
    note            text,
    details         jsonb NOT NULL DEFAULT '{}',
    actor_key_id    uuid,
    actor_staff_id  uuid,
    actor_role      text,
    request_id      text,
    at              timestamptz NOT NULL,
    seq             bigint GENERATED ALWAYS AS IDENTITY,
    -- Events raised once (SLA warnings and breaches): the key that makes a second one impossible.
    once_key        text,
    PRIMARY KEY (dealer_id, id),
    FOREIGN KEY (dealer_id, complaint_id) REFERENCES complaints (dealer_id, id)
);
CREATE INDEX complaint_events_complaint ON complaint_events (dealer_id, complaint_id, at, seq);
CREATE UNIQUE INDEX complaint_events_once ON complaint_events (dealer_id, complaint_id, once_key) WHERE once_key IS NOT NULL;

CREATE FUNCTION crm_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND current_setting('crm.erasing', true) = 'on' THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER complaint_events_append_only BEFORE UPDATE OR DELETE ON complaint_events
    FOR EACH ROW EXECUTE FUNCTION crm_append_only();

-- The questions a dealer asks in one kind of callback; one active set per purpose.
CREATE TABLE survey_question_sets (
    dealer_id   uuid NOT NULL REFERENCES dealers (id),
    id          uuid NOT NULL,
    purpose     text NOT NULL CHECK (purpose IN ('complaint_resolution', 'delivery_day_1', 'delivery_day_3', 'post_service')),
    name        text NOT NULL,
    questions   jsonb NOT NULL,
    active      boolean NOT NULL DEFAULT true,
    created_at  timestamptz NOT NULL,
    PRIMARY KEY (dealer_id, id)
);
CREATE UNIQUE INDEX survey_question_sets_active ON survey_question_sets (dealer_id, purpose) WHERE active;

-- Satisfaction callbacks (回访): after a complaint's resolution, after a delivery (D+1, D+3),
-- after a service visit.
CREATE TABLE callbacks (
    dealer_id         uuid NOT NULL REFERENCES dealers (id),
    id                uuid NOT NULL,
    customer_id       uuid NOT NULL,
    purpose           text NOT NULL CHECK (purpose IN ('complaint_resolution', 'delivery_day_1', 'delivery_day_3', 'post_service')),
    complaint_id      uuid,
    lead_id           uuid,
    service_visit_id  uuid,
    -- What it is about, once: a complaint's resolution per cycle, a delivery per day.
    once_key          text NOT NULL,
    due_date          date NOT NULL,
    window_starts_at  timestamptz NOT NULL,
    window_ends_at    timestamptz NOT NULL,
    assignee_id       uuid,
    served_by_id      uuid,
    status            text NOT NULL CHECK (status IN ('open', 'surveyed', 'refused', 'unreachable')),
    attempts          integer NOT NULL DEFAULT 0,
    completed_at      timestamptz,
    created_at        timestamptz NOT NULL,
    updated_at        timestamptz NOT NULL,
    version           integer NOT NULL DEFAULT 1,
    PRIMARY KEY (dealer_id, id),
    UNIQUE (dealer_id, once_key),
    FOREIGN KEY (dealer_id, customer_id) REFERENCES customers (dealer_id, id),
    FOREIGN KEY (dealer_id, complaint_id) REFERENCES complaints (dealer_id, id),
    FOREIGN KEY (dealer_id, lead_id) REFERENCES leads (dealer_id, id),
    FOREIGN KEY (dealer_id, assignee_id) REFERENCES staff (dealer_id, id)
);
-- Due and overdue lists.
CREATE INDEX callbacks_open_due ON callbacks (dealer_id, due_date, id) WHERE status = 'open';
CREATE INDEX callbacks_created ON callbacks (dealer_id, created_at DESC, id DESC);
CREATE INDEX callbacks_complaint ON callbacks (dealer_id, complaint_id) WHERE complaint_id IS NOT NULL;
CREATE TRIGGER callbacks_touch BEFORE UPDATE ON callbacks FOR EACH ROW EXECUTE FUNCTION crm_touch_updated_at();

CREATE TABLE call_attempts (
    dealer_id      uuid NOT NULL,
    id             uuid NOT NULL,
    callback_id    uuid NOT NULL,
    outcome        text NOT NULL CHECK (outcome IN ('reached', 'no_answer', 'wrong_number', 'refused')),
    number_called  text NOT NULL,
    started_at     timestamptz NOT NULL,
    ended_at       timestamptz NOT NULL,
    caller_id      uuid,
    notes          text,
    recorded_at    timestamptz NOT NULL,
    seq            bigint GENERATED ALWAYS AS IDENTITY,
    PRIMARY KEY (dealer_id, id),
    FOREIGN KEY (dealer_id, callback_id) REFERENCES callbacks (dealer_id, id),
    CHECK (ended_at >= started_at)
);
CREATE INDEX call_attempts_callback ON call_attempts (dealer_id, callback_id, seq);

CREATE TABLE surveys (
    dealer_id        uuid NOT NULL,
    id               uuid NOT NULL,
    callback_id      uuid NOT NULL,
    attempt_id       uuid NOT NULL,
    question_set_id  uuid,
    -- Denormalised from the callback and the attempt, for the reports.
    customer_id      uuid NOT NULL,
    purpose          text NOT NULL,
    complaint_id     uuid,
    caller_id        uuid,
    number_called    text NOT NULL,
    scores           jsonb NOT NULL,
    -- Mean CSI score of the answered questions; NULL when none was answered.
    csi              double precision,
    top_score        boolean NOT NULL,
    nps              smallint CHECK (nps BETWEEN 0 AND 10),
    comments         text,
    flags            jsonb NOT NULL DEFAULT '[]',
    flagged          boolean NOT NULL,
    recorded_at      timestamptz NOT NULL,
    PRIMARY KEY (dealer_id, id),
    UNIQUE (dealer_id, callback_id),
    FOREIGN KEY (dealer_id, callback_id) REFERENCES callbacks (dealer_id, id),
    FOREIGN KEY (dealer_id, attempt_id) REFERENCES call_attempts (dealer_id, id)
);
CREATE INDEX surveys_recorded ON surveys (dealer_id, recorded_at, id);
CREATE INDEX surveys_caller ON surveys (dealer_id, caller_id, recorded_at);
CREATE INDEX surveys_complaint ON surveys (dealer_id, complaint_id) WHERE complaint_id IS NOT NULL;
-- "Was this number used to survey other customers?" across a group's dealers.
CREATE INDEX surveys_number ON surveys (number_called, customer_id);
