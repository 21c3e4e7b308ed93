-- A replayed idempotency key answers exactly as the first call did (Stripe's rule): the balance of
-- that first answer is kept with the call, and consume_quota returns it, with its period, on a
-- replay, whatever happened since (a cancellation, other consumptions).
-- AlterTable
ALTER TABLE "consumption" ADD COLUMN     "balance" JSONB;

DROP FUNCTION consume_quota(uuid, char(7), "ContentCategory", boolean, jsonb, uuid, text, text, uuid, "AgeGroup", text, int, text, timestamptz);

-- Hand-written: consumeQuota's writes as one function, so that a call is one round trip and one
-- transaction (the business rules stay in TypeScript and arrive as arguments, by name). In order:
--  1. metered and allowed: take a unit with one conditional upsert (below the limit only; the
--     row lock makes concurrent calls queue, so none goes past the limit);
--  2. the balance after the call, read in the same transaction: the answer;
--  3. record the call and its answer under the provider's idempotency key;
--  4. the key was already used (a replay, or a concurrent twin that committed first): give the
--     unit back (the row is still locked by this transaction) and return the first call's answer.
-- Limits: the latest policy started at or before the period, else the defaults passed in.
CREATE FUNCTION consume_quota(
  p_patron_id uuid, p_period char(7), p_category "ContentCategory", p_metered boolean, p_defaults jsonb,
  p_provider_id uuid, p_key text, p_request_hash text, p_library_id uuid, p_age_group "AgeGroup",
  p_resource_id text, p_minimum_age int, p_refusal text, p_now timestamptz
) RETURNS TABLE (id uuid, granted boolean, error_code text, request_hash text, balance jsonb, period char(7), replayed boolean)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
  took boolean := false;
  answer jsonb;
BEGIN
  IF p_metered THEN
    INSERT INTO quota_usage AS u (patron_id, period, category, used)
    SELECT p_patron_id, p_period, p_category, 1 WHERE quota_limit_in_force(p_period, p_category, p_defaults) > 0
    ON CONFLICT (patron_id, period, category) DO UPDATE SET used = u.used + 1
     WHERE u.used < quota_limit_in_force(p_period, p_category, p_defaults);
    took := FOUND;
  END IF;

  IF p_patron_id IS NOT NULL THEN
    SELECT jsonb_agg(jsonb_build_object('category', m.category, 'limit', quota_limit_in_force(p_period, m.category, p_defaults),
                                        'used', coalesce(u.used, 0)))
      INTO answer
      FROM unnest(ARRAY['FILM', 'BOOK', 'MAGAZINE', 'NEWSPAPER']::"ContentCategory"[]) AS m(category)
      LEFT JOIN quota_usage u ON u.patron_id = p_patron_id AND u.period = p_period AND u.category = m.category;
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
