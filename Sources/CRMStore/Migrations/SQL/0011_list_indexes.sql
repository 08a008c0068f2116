-- Lists filtered by a rare value read the matching rows through an index of their own, instead
-- of walking every row of the dealer in the list's order (or reading the whole table) and
-- dropping the others:
-- - leads by status, newest first (the manager's queue of loss decisions, a consultant's new
--   leads): a status that a few hundred of a dealer's million leads hold took half a second a page;
-- - leads by phone, every status (has this caller enquired before?): the open leads' unique
--   phone index does not hold the closed ones, so the search read the whole table (0.24 s over
--   1.28 million leads);
-- - reminders by status, by due date (the pending ones, the held back): the list starts at the
--   oldest due date, so the pending reminders came after every reminder ever sent, 0.54 s a page
--   over a million;
-- - a customer's complaints, every status: only the open ones had an index.
-- Built in the migration's transaction, so writes to those tables wait for the build (4.1 s for
-- all four over 1.28 million leads and a million reminders on the bench machine).
CREATE INDEX leads_status_created ON leads (dealer_id, status, created_at DESC, id DESC);
CREATE INDEX leads_phone ON leads (dealer_id, phone) WHERE phone IS NOT NULL;
CREATE INDEX reminders_status_due ON reminders (dealer_id, status, due_date, id);
CREATE INDEX complaints_customer ON complaints (dealer_id, customer_id, created_at DESC, id DESC);
