-- Orders by customer (issue 9). A rule that tests `customer_order_count` asks, on every
-- write it runs for, how many orders the order's customer placed until then; without
-- an index that meant reading and decoding every earlier order, so each placement
-- cost as much as the history was long. `customer_key` is the order's
-- `Order::customer_key()` (`id:<customer id>`, else `email:<e-mail, lower case>`),
-- written when the order is inserted (an order's customer never changes) and NULL for
-- an order without a customer. Rows saved before this version are filled in by the
-- store in the same transaction, after this script: their documents are packed, so
-- SQL cannot read the customer out of them.
ALTER TABLE orders ADD COLUMN customer_key TEXT;
CREATE INDEX orders_by_customer ON orders (customer_key, placed_secs, placed_nanos)
    WHERE customer_key IS NOT NULL;
