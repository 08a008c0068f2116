-- Leads filtered by a series or a channel that few of the dealer's leads have read those leads
-- through an index of their own, newest first, instead of walking every lead of the dealer:
-- - by interest series (a newly launched model, a series typed differently): the series is bound,
--   so the kept generic plan was costed for an average series and walked the newest-first index;
--   a series no lead has read every lead (1.9 s over 1.24 million leads on the bench machine);
-- - by channel (a source the dealer rarely uses): a constant, so the planner saw the value was
--   rare and read the whole table instead (115 ms).
-- Built in the migration's transaction, so lead writes wait for the build (3.5 s for both over
-- 1.24 million leads on the bench machine; README, "Upgrading"). Lead captures through the
-- service ran as fast with them as without (three alternating rounds, within the rounds' noise).
CREATE INDEX leads_series_created ON leads (dealer_id, interest_series, created_at DESC, id DESC);
CREATE INDEX leads_channel_created ON leads (dealer_id, channel, created_at DESC, id DESC);
