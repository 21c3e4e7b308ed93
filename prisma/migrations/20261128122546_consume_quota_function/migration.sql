-- The limit in force for (period, category): the latest policy started at or before the period,
-- else the default passed in ({"FILM": 4, …}, from the application's seed values).
CREATE FUNCTION quota_limit_in_force(p_period char(7), p_category "ContentCategory", p_defaults jsonb) RETURNS int
LANGUAGE sql STABLE AS $$
  SELECT coalesce((
    SELECT l."limit" FROM quota_policy p JOIN quota_limit l ON l.policy_id = p.id AND l.category = p_category
     WHERE p.effective_from <= p_period ORDER BY p.effective_from DESC LIMIT 1), (p_defaults ->> p_category::text)::int)
$$;

-- Hand-written: consumeQuota's writes as one function, so that a call is one round trip and one
-- transaction (the business rules stay in TypeScript and arrive as arguments). In order:
--  1. metered and allowed: take a unit with one conditional upsert (below the limit only; the
--     row lock makes concurrent calls queue, so none goes past the limit);
--  2. record the call under the provider's idempotency key;
--  3. the key was already used (a replay, or a concurrent twin that committed first): give the
--     unit back (the row is still locked by this transaction) and answer as the first call did;
--  4. the balance after the call, read in the same transaction.
-- Limits: the latest policy started at or before the period, else the defaults passed in.
CREATE FUNCTION consume_quota(
  p_patron_id uuid, p_period char(7), p_category "ContentCategory", p_metered boolean, p_defaults jsonb,
  p_provider_id uuid, p_key text, p_request_hash text, p_library_id uuid, p_age_group "AgeGroup",
  p_resource_id text, p_minimum_age int, p_refusal text, p_now timestamptz
) RETURNS TABLE (id uuid, granted boolean, error_code text, request_hash text, balance jsonb)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
  took boolean := false;
BEGIN
  IF p_metered THEN
    INSERT INTO quota_usage AS u (patron_id, period, category, used)
    SELECT p_patron_id, p_period, p_category, 1 WHERE quota_limit_in_force(p_period, p_category, p_defaults) > 0
    ON CONFLICT (patron_id, period, category) DO UPDATE SET used = u.used + 1
     WHERE u.used < quota_limit_in_force(p_period, p_category, p_defaults);
    took := FOUND;
  END IF;

  INSERT INTO consumption AS c (provider_id, idempotency_key, request_hash, patron_id, library_id, age_group, category,
                                resource_id, minimum_age, period, granted, error_code, occurred_at)
  VALUES (p_provider_id, p_key, p_request_hash, p_patron_id, p_library_id, p_age_group, p_category, p_resource_id,
          p_minimum_age, p_period, CASE WHEN p_refusal IS NOT NULL THEN false WHEN p_metered THEN took ELSE true END,
          CASE WHEN p_refusal IS NOT NULL THEN p_refusal WHEN p_metered AND NOT took THEN 'QUOTA_EXCEEDED' END, p_now)
  ON CONFLICT (provider_id, idempotency_key) DO NOTHING
  RETURNING c.id, c.granted, c.error_code, c.request_hash INTO id, granted, error_code, request_hash;

  IF NOT FOUND THEN
    IF took THEN
      UPDATE quota_usage u SET used = u.used - 1
       WHERE u.patron_id = p_patron_id AND u.period = p_period AND u.category = p_category;
    END IF;
    SELECT c.id, c.granted, c.error_code, c.request_hash INTO id, granted, error_code, request_hash
      FROM consumption c WHERE c.provider_id = p_provider_id AND c.idempotency_key = p_key;
  END IF;

  IF p_patron_id IS NOT NULL THEN
    SELECT jsonb_agg(jsonb_build_object('category', m.category, 'limit', quota_limit_in_force(p_period, m.category, p_defaults),
                                        'used', coalesce(u.used, 0)))
      INTO balance
      FROM unnest(ARRAY['FILM', 'BOOK', 'MAGAZINE', 'NEWSPAPER']::"ContentCategory"[]) AS m(category)
      LEFT JOIN quota_usage u ON u.patron_id = p_patron_id AND u.period = p_period AND u.category = m.category;
  END IF;
  RETURN NEXT;
END
$$;
