-- Patrons counted by library and status as they change, in the transaction that changes them, so
-- that the staff's list answers an exact totalCount without counting a million rows. One statement
-- of any size makes one delta per (library, status) (transition tables); the counts are spread over
-- 8 shards chosen at random per statement, so concurrent registrations of one library rarely wait
-- on the same row. Read as a sum (src/modules/patrons/store.ts, countPatrons).
CREATE OR REPLACE FUNCTION patron_count_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO patron_count AS c (library_id, status, shard, count)
    SELECT library_id, status, floor(random() * 8)::smallint, count(*) FROM new_rows GROUP BY library_id, status
    ON CONFLICT (library_id, status, shard) DO UPDATE SET count = c.count + EXCLUDED.count;
  ELSIF TG_OP = 'DELETE' THEN
    INSERT INTO patron_count AS c (library_id, status, shard, count)
    SELECT library_id, status, floor(random() * 8)::smallint, -count(*) FROM old_rows GROUP BY library_id, status
    ON CONFLICT (library_id, status, shard) DO UPDATE SET count = c.count + EXCLUDED.count;
  ELSE
    INSERT INTO patron_count AS c (library_id, status, shard, count)
    SELECT library_id, status, floor(random() * 8)::smallint, sum(n) FROM (
      SELECT library_id, status, -count(*) AS n FROM old_rows GROUP BY library_id, status
      UNION ALL
      SELECT library_id, status, count(*) FROM new_rows GROUP BY library_id, status
    ) AS delta GROUP BY library_id, status HAVING sum(n) <> 0
    ON CONFLICT (library_id, status, shard) DO UPDATE SET count = c.count + EXCLUDED.count;
  END IF;
  RETURN NULL;
END;
$$;

CREATE OR REPLACE TRIGGER "patron_count_insert" AFTER INSERT ON "patron" REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION patron_count_changed();
CREATE OR REPLACE TRIGGER "patron_count_update" AFTER UPDATE ON "patron" REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION patron_count_changed();
CREATE OR REPLACE TRIGGER "patron_count_delete" AFTER DELETE ON "patron" REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION patron_count_changed();
