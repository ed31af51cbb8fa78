-- The job worker looks for open items past their deadline whose breach is not logged yet at every
-- round (every half second, and after each commit that queues a job). Without an index of just
-- those it read every review item each time (16,667 at 100k candidates: ~1.8 ms a round, growing
-- with the table); this one holds only the open, unlogged items, in deadline order.
CREATE INDEX review_items_unlogged_breach ON review_items (deadline_at)
    WHERE state IN ('open', 'awaiting_second_approval') AND breach_logged_at IS NULL;
