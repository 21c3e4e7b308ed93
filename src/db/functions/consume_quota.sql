-- consumeQuota's writes as one function, so that a call is one round trip and one transaction
-- (the business rules stay in TypeScript and arrive as arguments, by name). In order:
--  1. metered and allowed: take a unit with one conditional upsert (below the limit only; the
--     row lock makes concurrent calls queue, so none goes past the limit);
--  2. the balance after the call, read in the same transaction: the answer;
--  3. record the call and its answer under the provider's idempotency key;
--  4. the key was already used (a replay, or a concurrent twin that committed first): give the
--     unit back (the row is still locked by this transaction) and return the first call's answer.
CREATE OR REPLACE FUNCTION consume_quota(
  p_patron_id uuid, p_period char(7), p_category "ContentCategory", p_metered boolean,
  p_provider_id uuid, p_key text, p_request_hash text, p_library_id uuid, p_age_group "AgeGroup",
  p_resource_id text, p_minimum_age int, p_refusal text, p_now timestamptz
) RETURNS TABLE (id uuid, granted boolean, error_code text, request_hash text, balance jsonb, period char(7), replayed boolean)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
  took boolean := false;
  answer jsonb;
  cap int;
BEGIN
  IF p_metered THEN
    cap := quota_limit_in_force(p_period, p_category);
    INSERT INTO quota_usage AS u (patron_id, period, category, used)
    SELECT p_patron_id, p_period, p_category, 1 WHERE cap > 0
    ON CONFLICT (patron_id, period, category) DO UPDATE SET used = u.used + 1 WHERE u.used < cap;
    took := FOUND;
  END IF;

  IF p_patron_id IS NOT NULL THEN
    SELECT jsonb_agg(jsonb_build_object('category', b.category, 'limit', b."limit", 'used', b.used))
      INTO answer FROM quota_balance(p_patron_id, p_period) b;
  END IF;

  INSERT INTO consumption AS c (provider_id, idempotency_key, request_hash, patron_id, library_id, age_group, category,
                                resource_id, minimum_age, period, granted, error_code, balance, occurred_at)
  VALUES (p_provider_id, p_key, p_request_hash, p_patron_id, p_library_id, p_age_group, p_category, p_resource_id,
          p_minimum_age, p_period, CASE WHEN p_refusal IS NOT NULL THEN false WHEN p_metered THEN took ELSE true END,
          CASE WHEN p_refusal IS NOT NULL THEN p_refusal WHEN p_metered AND NOT took THEN 'QUOTA_EXCEEDED' END, answer, p_now)
  ON CONFLICT (provider_id, idempotency_key) DO NOTHING
  RETURNING c.id, c.granted, c.error_code, c.request_hash, c.balance, c.period, false
       INTO id, granted, error_code, request_hash, balance, period, replayed;

  IF NOT FOUND THEN
    IF took THEN
      UPDATE quota_usage u SET used = u.used - 1
       WHERE u.patron_id = p_patron_id AND u.period = p_period AND u.category = p_category;
    END IF;
    SELECT c.id, c.granted, c.error_code, c.request_hash, c.balance, c.period, true
      INTO id, granted, error_code, request_hash, balance, period, replayed
      FROM consumption c WHERE c.provider_id = p_provider_id AND c.idempotency_key = p_key;
  END IF;
  RETURN NEXT;
END
$$;
