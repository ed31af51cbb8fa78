-- The review queue's counts per risk tier (open and breached) from the index alone.
CREATE INDEX review_items_open_tiers ON review_items (state, risk_tier, deadline_at);
