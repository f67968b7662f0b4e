-- Outbox records that announce an order event (every order event is announced) keep
-- an empty `record` and the event's version in `payload_event`: their id, topic and
-- order are in the row, their time and payload are the event's, joined back when read.
-- The event's JSON is then sent and stored once, not again inside its announcement.
-- Rows written before keep their document (`payload_event` NULL) and read as they did.
ALTER TABLE outbox ADD COLUMN payload_event BIGINT;

-- A change set in one round trip (ADR 0014). The client used to send a commit as a
-- transaction of statements, each waiting for its answer: BEGIN, the orders, their
-- events, the stock heads, the stock entries, the keys, the outbox, COMMIT. This
-- function runs the same statements, in the same order and with the same checks, as
-- one call: the call is its own transaction, so a refusal anywhere undoes all of it.
--
-- It covers the change sets of orders, their events, variant stock entries (each
-- place in a variant partition, all decided on the same global head), idempotency
-- keys and outbox records. Anything else (global stock entries, keyed records,
-- invoice documents) goes the statement-by-statement way.
--
-- A check that fails writes nothing. A stock head that moved (the common race: two
-- writers of one variant) raises SQLSTATE 'OS40S' naming the partition ('' for the
-- global head) as the message and "expected actual" as the detail, which the client
-- reports as a conflict. Any other failed check raises 'OS409'; the client then commits
-- the same change set statement by statement, which names exactly what was stale or
-- taken (or succeeds, if the race that refused the call has passed).
-- Orders come in id order and stock partitions in byte order, and rows are locked in
-- that order, so two calls cannot deadlock (as two statement-by-statement commits).
CREATE FUNCTION ordersmith_commit(
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
    x_ids TEXT[], x_topics TEXT[], x_aggregates TEXT[], x_records TEXT[], x_events BIGINT[]
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
        INSERT INTO orders (id, version, status, channel, placed_secs, placed_nanos, snapshot)
            SELECT id, version, status, channel, secs, nanos, snapshot
            FROM unnest(o_ids, o_versions, o_statuses, o_channels, o_secs, o_nanos,
                        o_snapshots, o_expected) WITH ORDINALITY
                AS r (id, version, status, channel, secs, nanos, snapshot, expected, n)
            WHERE expected = 0 ORDER BY n
            ON CONFLICT (id) DO NOTHING;
        GET DIAGNOSTICS written = ROW_COUNT;
        IF written <> wanted THEN
            RAISE EXCEPTION USING ERRCODE = 'OS409', MESSAGE = 'an order id is taken';
        END IF;
    END IF;
    -- Updates, version-checked; several are locked in id order first.
    wanted := coalesce(array_length(o_ids, 1), 0) - wanted;
    IF wanted > 1 THEN
        PERFORM 1 FROM orders
            WHERE id IN (SELECT id FROM unnest(o_ids, o_expected) AS u (id, expected)
                         WHERE expected <> 0)
            ORDER BY id FOR UPDATE;
    END IF;
    IF wanted > 0 THEN
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
    INSERT INTO order_events (order_id, version, record)
        SELECT * FROM unnest(e_orders, e_versions, e_records);
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
            IF wanted > 1 THEN
                PERFORM 1 FROM stock_heads
                    WHERE partition IN (SELECT partition FROM unnest(h_partitions, h_expected)
                                            AS h (partition, expected) WHERE expected <> 0)
                    ORDER BY partition FOR UPDATE;
            END IF;
            WITH advanced AS (
                UPDATE stock_heads AS s SET pseq = h.moved
                    FROM unnest(h_partitions, h_expected, h_moved) AS h (partition, expected, moved)
                    WHERE h.expected <> 0 AND s.partition = h.partition AND s.pseq = h.expected
                    RETURNING s.partition)
            SELECT taken || coalesce(array_agg(partition), '{}') INTO taken FROM advanced;
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
