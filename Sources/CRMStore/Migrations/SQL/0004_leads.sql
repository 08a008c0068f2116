-- 0004: leads (prospects), their follow-ups, assignments and consents; welcome packs.
-- Every table is dealer-owned: dealer_id leads its primary key, unique constraints and foreign
-- keys (docs/SCALING.md).

CREATE TABLE leads (
    dealer_id               uuid NOT NULL REFERENCES dealers (id),
    id                      uuid NOT NULL,
    surname                 text,
    name                    text,
    gender                  text CHECK (gender IN ('male', 'female', 'unknown')),
    phone                   text,
    party                   text CHECK (party IN ('individual', 'company')),
    company_name            text,
    customer_type           text CHECK (customer_type IN ('first_purchase', 'replacement', 'additional')),
    current_brand           text,
    current_model           text,
    interest_brand          text,
    interest_series         text,
    interest_model          text,
    competitor_models       text[] NOT NULL DEFAULT '{}',
    intended_purchase_date  date,
    channel                 text NOT NULL CHECK (channel IN (
                                'showroom', 'own_prospecting', 'telemarketing', 'referral', 'key_account',
                                'secondary_dealer', 'marketing_event', 'advertising', 'brand_partnership',
                                'purchased_data', 'online')),
    campaign                text,
    referrer_customer_id    uuid,
    referrer_name           text,
    notes                   text,
    tags                    text[] NOT NULL DEFAULT '{}',
    status                  text NOT NULL DEFAULT 'new' CHECK (status IN (
                                'new', 'contacted', 'visited', 'test_drive', 'negotiating', 'loss_pending',
                                'won', 'lost', 'merged')),
    -- The consultant who owns the lead; NULL while it waits in the dealer's shared pool.
    consultant_id           uuid,
    assigned_at             timestamptz,
    last_contact_at         timestamptz,
    last_contact_result     text,
    next_contact_date       date,
    next_contact_action     text,
    customer_id             uuid,
    -- A declared loss (status loss_pending, then lost or back to work).
    status_before_loss      text,
    loss_reason             text CHECK (loss_reason IN (
                                'bought_competitor', 'price', 'postponed', 'unreachable', 'no_longer_interested',
                                'financing', 'other')),
    loss_competitor         text,
    loss_note               text,
    loss_requested_at       timestamptz,
    loss_requested_by       uuid,
    loss_decision           text CHECK (loss_decision IN ('approve', 'reject')),
    loss_decided_at         timestamptz,
    loss_decided_by         uuid,
    loss_decision_note      text,
    lost_at                 timestamptz,
    -- The sale (status won).
    vehicle_id              uuid,
    sale_price_minor        bigint CHECK (sale_price_minor >= 0),
    sale_currency           text CHECK (sale_currency ~ '^[A-Z]{3}$'),
    delivery_date           date,
    won_at                  timestamptz,
    merged_into             uuid,
    created_at              timestamptz NOT NULL DEFAULT now(),
    updated_at              timestamptz NOT NULL DEFAULT now(),
    version                 integer NOT NULL DEFAULT 1,
    -- The 11 fields of a qualified lead (LeadRules.missingFields says the same in Swift; a test
    -- checks they agree). Derived from the row itself, so never stale.
    -- Never NULL: a missing gender or customer type makes it false, not unknown.
    qualified               boolean GENERATED ALWAYS AS (coalesce(
                                consultant_id IS NOT NULL AND customer_type IS NOT NULL AND party IS NOT NULL
                                AND gender IN ('male', 'female') AND surname IS NOT NULL AND phone IS NOT NULL
                                AND (customer_type = 'first_purchase' OR (current_brand IS NOT NULL AND current_model IS NOT NULL))
                                AND intended_purchase_date IS NOT NULL
                                AND interest_series IS NOT NULL AND interest_model IS NOT NULL
                                AND last_contact_result IS NOT NULL AND next_contact_date IS NOT NULL, false)) STORED,
    PRIMARY KEY (dealer_id, id),
    FOREIGN KEY (dealer_id, consultant_id) REFERENCES staff (dealer_id, id),
    FOREIGN KEY (dealer_id, customer_id) REFERENCES customers (dealer_id, id),
    FOREIGN KEY (dealer_id, referrer_customer_id) REFERENCES customers (dealer_id, id),
    FOREIGN KEY (dealer_id, vehicle_id) REFERENCES vehicles (dealer_id, id),
    FOREIGN KEY (dealer_id, merged_into) REFERENCES leads (dealer_id, id),
    CHECK (status <> 'won' OR (customer_id IS NOT NULL AND vehicle_id IS NOT NULL AND won_at IS NOT NULL)),
    CHECK (status <> 'lost' OR lost_at IS NOT NULL),
    CHECK (status <> 'loss_pending' OR (loss_reason IS NOT NULL AND status_before_loss IS NOT NULL))
);
-- No two open leads for one phone at a dealer: two consultants never own the same prospect.
CREATE UNIQUE INDEX leads_open_phone ON leads (dealer_id, phone)
    WHERE phone IS NOT NULL AND status IN ('new', 'contacted', 'visited', 'test_drive', 'negotiating', 'loss_pending');
-- Default list order: newest first; and a consultant's own leads.
CREATE INDEX leads_created ON leads (dealer_id, created_at DESC, id DESC);
CREATE INDEX leads_consultant_created ON leads (dealer_id, consultant_id, created_at DESC, id DESC);
-- Overdue lists (planned contact passed, still open), for a manager and for a consultant.
CREATE INDEX leads_due ON leads (dealer_id, next_contact_date, id)
    WHERE status IN ('new', 'contacted', 'visited', 'test_drive', 'negotiating', 'loss_pending');
CREATE INDEX leads_consultant_due ON leads (dealer_id, consultant_id, next_contact_date, id)
    WHERE status IN ('new', 'contacted', 'visited', 'test_drive', 'negotiating', 'loss_pending');
-- The pool recycling scan: assigned open leads of a dealer.
CREATE INDEX leads_assigned_open ON leads (dealer_id, assigned_at)
    WHERE consultant_id IS NOT NULL AND status IN ('new', 'contacted', 'visited', 'test_drive', 'negotiating');
CREATE INDEX leads_customer ON leads (dealer_id, customer_id) WHERE customer_id IS NOT NULL;
CREATE TRIGGER leads_touch BEFORE UPDATE ON leads FOR EACH ROW EXECUTE FUNCTION crm_touch_updated_at();

-- Every contact with the prospect, newest first.
CREATE TABLE lead_follow_ups (
    dealer_id            uuid NOT NULL,
    id                   uuid NOT NULL,
    lead_id              uuid NOT NULL,
    contacted_at         timestamptz NOT NULL,
    channel              text NOT NULL CHECK (channel IN ('phone', 'visit', 'wechat', 'sms', 'test_drive')),
    result               text NOT NULL,
    notes                text,
    next_contact_date    date,
    next_contact_action  text,
    staff_id             uuid,
    actor_key_id         uuid,
    recorded_at          timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (dealer_id, id),
    FOREIGN KEY (dealer_id, lead_id) REFERENCES leads (dealer_id, id),
    FOREIGN KEY (dealer_id, staff_id) REFERENCES staff (dealer_id, id)
);
CREATE INDEX lead_follow_ups_lead ON lead_follow_ups (dealer_id, lead_id, contacted_at DESC, id DESC);

-- Every (re)assignment: who had it, who has it, why, who decided.
CREATE TABLE lead_assignments (
    dealer_id            uuid NOT NULL,
    id                   uuid NOT NULL,
    lead_id              uuid NOT NULL,
    from_consultant_id   uuid,
    to_consultant_id     uuid,
    reason               text NOT NULL CHECK (reason IN ('created', 'manual', 'round_robin', 'claimed', 'recycled', 'released')),
    actor_key_id         uuid,
    at                   timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (dealer_id, id),
    FOREIGN KEY (dealer_id, lead_id) REFERENCES leads (dealer_id, id),
    FOREIGN KEY (dealer_id, from_consultant_id) REFERENCES staff (dealer_id, id),
    FOREIGN KEY (dealer_id, to_consultant_id) REFERENCES staff (dealer_id, id)
);
CREATE INDEX lead_assignments_lead ON lead_assignments (dealer_id, lead_id, at DESC, id DESC);

-- Consents the prospect gave while a lead; carried over to the customer at conversion.
CREATE TABLE lead_consents (
    dealer_id     uuid NOT NULL,
    id            uuid NOT NULL,
    lead_id       uuid NOT NULL,
    channel       text NOT NULL CHECK (channel IN ('sms', 'phone', 'email', 'wechat', 'mail')),
    status        text NOT NULL CHECK (status IN ('granted', 'withdrawn')),
    source        text NOT NULL,
    effective_at  timestamptz NOT NULL,
    actor_key_id  uuid,
    PRIMARY KEY (dealer_id, id),
    FOREIGN KEY (dealer_id, lead_id) REFERENCES leads (dealer_id, id)
);
CREATE INDEX lead_consents_lead ON lead_consents (dealer_id, lead_id, effective_at, id);

-- Round-robin assignment: the consultant who got the last lead, per dealer.
CREATE TABLE lead_round_robin (
    dealer_id        uuid PRIMARY KEY REFERENCES dealers (id),
    last_staff_id    uuid,
    updated_at       timestamptz NOT NULL DEFAULT now()
);

-- Welcome packs prepared at delivery (the job `customers.welcome_pack` records them; sending is a
-- later issue). One per won lead.
CREATE TABLE welcome_packs (
    dealer_id       uuid NOT NULL,
    id              uuid NOT NULL,
    lead_id         uuid NOT NULL,
    customer_id     uuid NOT NULL,
    vehicle_id      uuid NOT NULL,
    consultant_id   uuid,
    job_id          bigint,
    prepared_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (dealer_id, id),
    UNIQUE (dealer_id, lead_id),
    FOREIGN KEY (dealer_id, lead_id) REFERENCES leads (dealer_id, id),
    FOREIGN KEY (dealer_id, customer_id) REFERENCES customers (dealer_id, id),
    FOREIGN KEY (dealer_id, vehicle_id) REFERENCES vehicles (dealer_id, id)
);
