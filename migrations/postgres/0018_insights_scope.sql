-- Insights reads background-check orders by when they were placed (order placed → result).
CREATE INDEX background_check_orders_created ON background_check_orders (created_at);
