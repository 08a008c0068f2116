-- The open complaints, newest first: the complaint desk's lists of open complaints (overdue, open
-- with a severity, category or channel) read only those, instead of walking every complaint the
-- dealer ever had. Over 300,000 complaints (one in ten open, none overdue, none critical and open)
-- the overdue list took 180 ms and the critical open ones 189 ms; 33 and 23 ms with it (psql,
-- warm). Built in the migration's transaction, so complaint writes wait for the build (76 ms
-- there; README, "Upgrading").
CREATE INDEX complaints_open_created ON complaints (dealer_id, created_at DESC, id DESC)
    WHERE status IN ('new', 'acknowledged', 'investigating', 'waiting_on_customer');
