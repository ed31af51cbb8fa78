-- The review queue from indexes of the open items alone, in the order it shows them. An index led
-- by state held the two open states as two ranges: every queue request sorted all open items
-- (1,667 at 100k candidates) for its first page, and grouped them again for the tier counts.
DROP INDEX review_items_queue;
DROP INDEX review_items_open_tiers;
CREATE INDEX review_items_open_by_deadline ON review_items (deadline_at, id)
    WHERE state IN ('open', 'awaiting_second_approval');
CREATE INDEX review_items_open_by_tier ON review_items (risk_tier, deadline_at)
    WHERE state IN ('open', 'awaiting_second_approval');
