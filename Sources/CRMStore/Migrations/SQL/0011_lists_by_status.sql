-- Lists filtered by status read the matching rows in the list's order, instead of walking every
-- row of the dealer in that order and dropping the others:
-- - leads newest first (the manager's queue of loss decisions, a consultant's new leads): a status
--   that a few hundred of a dealer's million leads hold took half a second a page;
-- - reminders by due date (the pending ones, the held back): the list starts at the oldest due
--   date, so the pending reminders came after every reminder ever sent, 0.6 s a page over a
--   million.
-- Built in the migration's transaction, so writes to those tables wait for the build (3.0 s for
-- 1.28 million leads and a million reminders on the bench machine).
CREATE INDEX leads_status_created ON leads (dealer_id, status, created_at DESC, id DESC);
CREATE INDEX reminders_status_due ON reminders (dealer_id, status, due_date, id);
