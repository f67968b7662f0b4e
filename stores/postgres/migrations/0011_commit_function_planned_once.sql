-- `ordersmith_commit` stops planning its statements again on every call (2026-12-05).
--
-- PL/pgSQL keeps a plan per statement, but under `plan_cache_mode = auto` (the
-- default) PostgreSQL plans a statement again on every execution for as long as a plan
-- made for the call's own values looks cheaper than the generic one. Three statements
-- of the function always looked so, because a plan made for a one-element array
-- estimates one row where the generic plan assumes ten: the version-checked
-- `UPDATE orders ... FROM unnest(...)`, the `SELECT ... FOR UPDATE` that locks several
-- partition heads, and the `UPDATE stock_heads ... FROM unnest(...)` that moves them.
-- A confirmation of a stored order planned all three on every call (59, 42 and 39 µs
-- in `pg_stat_statements` with `track_planning`: 6,074 plans for 6,073 calls), a
-- reservation made by hand the last one (51 µs of its ~210 µs).
--
-- Forcing the generic plan instead was measured and not kept: a generic plan is made
-- once per connection, on the table as it is then, and a set-based update planned on
-- a new, small `orders` table scanned the whole table from then on (408 µs an update
-- after a few thousand orders, until an `ANALYZE` would replace the plan).
--
-- The function is restated (same signature, same checks, same errors, locks taken in
-- the same order) with two changes:
-- - up to eight orders, and up to eight partition heads, are each updated by their
--   key, one statement per row, in id (byte) order: the order the locking `SELECT`
--   took their locks in, which they now take themselves. A statement by key costs the
--   same planned for its values as planned generically, so PostgreSQL keeps its
--   generic plan after five calls, and that plan reads the primary key's index once
--   the table is more than a page or two. More rows keep the locking `SELECT` and the
--   set-based statements, still planned per call: a batch's plan is worth its cost;
-- - the events insert runs only when there are events (a stock write made by hand
--   has none).
CREATE OR REPLACE FUNCTION ordersmith_commit(
    -- Orders, in id order; expected 0: a new order, else the version it must be at.
    o_ids TEXT[], o_versions BIGINT[], o_statuses TEXT[], o_channels TEXT[],
    o_secs BIGINT[], o_nanos BIGINT[], o_snapshots TEXT[], o_expected BIGINT[],
    -- Their events.
    e_orders TEXT[], e_versions BIGINT[], e_records TEXT[],
    -- Variant partition heads, in byte order: from `expected` (0: a new partition) to `moved`.
    h_partitions TEXT[], h_expected BIGINT[], h_moved BIGINT[],
    -- The global head every stock entry was decided on (NULL when there are none).
    s_basis BIGINT,
    -- The stock entries, in the order decided.
    s_partitions TEXT[], s_pseqs BIGINT[], s_bases BIGINT[], s_entries TEXT[],
    -- Idempotency keys.
    k_keys TEXT[], k_fingerprints TEXT[], k_orders TEXT[], k_versions BIGINT[],
    -- Outbox records, oldest first; an announcement's record is '' and its event named.
    x_ids TEXT[], x_topics TEXT[], x_aggregates TEXT[], x_records TEXT[], x_events BIGINT[],
    -- Each order's customer key (NULL: no customer), as `o_ids`; read for new orders.
    o_customers TEXT[],
    -- Ids of reservations made by hand in this call, each with its partition.
    r_ids TEXT[], r_partitions TEXT[]
) RETURNS VOID LANGUAGE plpgsql AS $$
DECLARE
    wanted BIGINT;
    written BIGINT;
    head BIGINT;
    taken TEXT[];
    stale TEXT;
    was BIGINT;
    now_at BIGINT;
BEGIN
    -- New orders, under their primary key.
    wanted := coalesce(cardinality(array_positions(o_expected, 0::BIGINT)), 0);
    IF wanted > 0 THEN
        INSERT INTO orders (id, version, status, channel, placed_secs, placed_nanos, snapshot,
                            customer_key)
            SELECT id, version, status, channel, secs, nanos, snapshot, customer
            FROM unnest(o_ids, o_versions, o_statuses, o_channels, o_secs, o_nanos,
                        o_snapshots, o_expected, o_customers) WITH ORDINALITY
                AS r (id, version, status, channel, secs, nanos, snapshot, expected, customer, n)
            WHERE expected = 0 ORDER BY n
            ON CONFLICT (id) DO NOTHING;
        GET DIAGNOSTICS written = ROW_COUNT;
        IF written <> wanted THEN
            RAISE EXCEPTION USING ERRCODE = 'OS409', MESSAGE = 'an order id is taken';
        END IF;
    END IF;
    -- Updates, version-checked; several are locked in id order first.
    wanted := coalesce(array_length(o_ids, 1), 0) - wanted;
    IF wanted > 0 AND wanted <= 8 THEN
        -- A few orders (most writes change one): each by its key, in id order, which
        -- is also the order their locks are taken in.
        written := 0;
        FOR i IN 1 .. cardinality(o_ids) LOOP
            CONTINUE WHEN o_expected[i] = 0;
            UPDATE orders SET version = o_versions[i], status = o_statuses[i],
                    channel = o_channels[i], placed_secs = o_secs[i],
                    placed_nanos = o_nanos[i], snapshot = o_snapshots[i]
                WHERE id = o_ids[i] AND version = o_expected[i];
            IF FOUND THEN
                written := written + 1;
            END IF;
        END LOOP;
        IF written <> wanted THEN
            RAISE EXCEPTION USING ERRCODE = 'OS409', MESSAGE = 'an order version moved';
        END IF;
    ELSIF wanted > 8 THEN
        PERFORM 1 FROM orders
            WHERE id IN (SELECT id FROM unnest(o_ids, o_expected) AS u (id, expected)
                         WHERE expected <> 0)
            ORDER BY id FOR UPDATE;
        UPDATE orders AS o SET version = u.version, status = u.status, channel = u.channel,
                placed_secs = u.secs, placed_nanos = u.nanos, snapshot = u.snapshot
            FROM unnest(o_ids, o_versions, o_statuses, o_channels, o_secs, o_nanos,
                        o_snapshots, o_expected)
                AS u (id, version, status, channel, secs, nanos, snapshot, expected)
            WHERE u.expected <> 0 AND o.id = u.id AND o.version = u.expected;
        GET DIAGNOSTICS written = ROW_COUNT;
        IF written <> wanted THEN
            RAISE EXCEPTION USING ERRCODE = 'OS409', MESSAGE = 'an order version moved';
        END IF;
    END IF;
    IF coalesce(array_length(e_orders, 1), 0) > 0 THEN
        INSERT INTO order_events (order_id, version, record)
            SELECT * FROM unnest(e_orders, e_versions, e_records);
    END IF;
    -- Stock: the global head shared (many variant writes at once), then each partition's
    -- head moved from where the writer saw it.
    IF coalesce(array_length(s_entries, 1), 0) > 0 THEN
        SELECT pseq INTO head FROM stock_heads WHERE partition = '' FOR SHARE;
        IF head IS DISTINCT FROM s_basis THEN
            RAISE EXCEPTION USING ERRCODE = 'OS40S', MESSAGE = '',
                DETAIL = s_basis || ' ' || coalesce(head, 0);
        END IF;
        -- New partitions, then the others locked in byte order and moved; `taken` holds
        -- the partitions this call moved, so one that was not is named.
        wanted := coalesce(cardinality(array_positions(h_expected, 0::BIGINT)), 0);
        IF wanted > 0 THEN
            WITH created AS (
                INSERT INTO stock_heads (partition, pseq)
                    SELECT partition, moved FROM unnest(h_partitions, h_expected, h_moved)
                        AS h (partition, expected, moved)
                    WHERE expected = 0 ORDER BY partition
                    ON CONFLICT (partition) DO NOTHING
                    RETURNING partition)
            SELECT coalesce(array_agg(partition), '{}') INTO taken FROM created;
        ELSE
            taken := '{}';
        END IF;
        IF cardinality(taken) = wanted AND coalesce(array_length(h_partitions, 1), 0) > wanted THEN
            wanted := coalesce(array_length(h_partitions, 1), 0) - wanted;
            IF wanted <= 8 THEN
                -- A few partitions (most writes move one or two): each head by its key,
                -- in byte order, which is also the order their locks are taken in.
                FOR i IN 1 .. cardinality(h_partitions) LOOP
                    CONTINUE WHEN h_expected[i] = 0;
                    UPDATE stock_heads SET pseq = h_moved[i]
                        WHERE partition = h_partitions[i] AND pseq = h_expected[i];
                    IF FOUND THEN
                        taken := taken || h_partitions[i];
                    END IF;
                END LOOP;
            ELSE
                PERFORM 1 FROM stock_heads
                    WHERE partition IN (SELECT partition FROM unnest(h_partitions, h_expected)
                                            AS h (partition, expected) WHERE expected <> 0)
                    ORDER BY partition FOR UPDATE;
                WITH advanced AS (
                    UPDATE stock_heads AS s SET pseq = h.moved
                        FROM unnest(h_partitions, h_expected, h_moved)
                            AS h (partition, expected, moved)
                        WHERE h.expected <> 0 AND s.partition = h.partition
                            AND s.pseq = h.expected
                        RETURNING s.partition)
                SELECT taken || coalesce(array_agg(partition), '{}') INTO taken FROM advanced;
            END IF;
        END IF;
        IF cardinality(taken) <> coalesce(array_length(h_partitions, 1), 0) THEN
            -- A new partition first: when one was taken, the others were not tried.
            SELECT h.partition, h.expected, coalesce(s.pseq, 0) INTO stale, was, now_at
                FROM unnest(h_partitions, h_expected) AS h (partition, expected)
                LEFT JOIN stock_heads AS s ON s.partition = h.partition
                WHERE h.partition <> ALL (taken)
                ORDER BY h.expected <> 0, h.partition LIMIT 1;
            RAISE EXCEPTION USING ERRCODE = 'OS40S', MESSAGE = coalesce(stale, ''),
                DETAIL = coalesce(was, 0) || ' ' || coalesce(now_at, 0);
        END IF;
        -- Hand-made reservations' ids, claimed for their partitions in id order; one
        -- another partition holds is a lost race (SQLSTATE OS40S, the id, 'claimed').
        -- Every id new (the usual case) needs no second look.
        wanted := coalesce(array_length(r_ids, 1), 0);
        IF wanted > 0 THEN
            -- A plain insert first (a fraction of what `ON CONFLICT`'s speculative
            -- insertion writes per row); an id already claimed (a repeat, or a lost
            -- race) undoes it and takes the careful way.
            BEGIN
                INSERT INTO stock_reservation_claims (id, partition)
                    SELECT id, partition FROM unnest(r_ids, r_partitions) AS r (id, partition)
                    ORDER BY id;
                written := wanted;
            EXCEPTION WHEN unique_violation THEN
                INSERT INTO stock_reservation_claims (id, partition)
                    SELECT id, partition FROM unnest(r_ids, r_partitions) AS r (id, partition)
                    ORDER BY id
                    ON CONFLICT (id) DO NOTHING;
                GET DIAGNOSTICS written = ROW_COUNT;
            END;
        END IF;
        IF wanted > 0 AND written <> wanted THEN
            SELECT r.id INTO stale
                FROM unnest(r_ids, r_partitions) AS r (id, partition)
                JOIN stock_reservation_claims AS c ON c.id = r.id
                WHERE c.partition <> r.partition
                LIMIT 1;
            IF FOUND THEN
                RAISE EXCEPTION USING ERRCODE = 'OS40S', MESSAGE = stale, DETAIL = 'claimed';
            END IF;
        END IF;
        INSERT INTO stock_entries (partition, pseq, basis, entry)
            SELECT partition, pseq, basis, entry
            FROM unnest(s_partitions, s_pseqs, s_bases, s_entries) WITH ORDINALITY
                AS e (partition, pseq, basis, entry, n)
            ORDER BY n;
    END IF;
    wanted := coalesce(array_length(k_keys, 1), 0);
    IF wanted > 0 THEN
        INSERT INTO idempotency_records (key, fingerprint, order_id, order_version)
            SELECT key, fingerprint, order_id, order_version
            FROM unnest(k_keys, k_fingerprints, k_orders, k_versions) WITH ORDINALITY
                AS r (key, fingerprint, order_id, order_version, n)
            ORDER BY n
            ON CONFLICT (key) DO NOTHING;
        GET DIAGNOSTICS written = ROW_COUNT;
        IF written <> wanted THEN
            RAISE EXCEPTION USING ERRCODE = 'OS409', MESSAGE = 'an idempotency key is taken';
        END IF;
    END IF;
    wanted := coalesce(array_length(x_ids, 1), 0);
    IF wanted > 0 THEN
        INSERT INTO outbox (id, topic, aggregate_id, record, payload_event)
            SELECT id, topic, aggregate_id, record, payload_event
            FROM unnest(x_ids, x_topics, x_aggregates, x_records, x_events) WITH ORDINALITY
                AS r (id, topic, aggregate_id, record, payload_event, n)
            ORDER BY n
            ON CONFLICT (id) DO NOTHING;
        GET DIAGNOSTICS written = ROW_COUNT;
        IF written <> wanted THEN
            RAISE EXCEPTION USING ERRCODE = 'OS409', MESSAGE = 'an outbox record id is taken';
        END IF;
    END IF;
END;
$$;
