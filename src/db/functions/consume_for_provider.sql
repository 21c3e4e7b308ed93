-- consumeQuota in one round trip, from the provider's API key: the key is checked (current, or the
-- previous one within its overlap; never a revoked provider's), so that a revocation holds from the
-- next call on every instance with no lookup of its own; the patron is read and the rules applied
-- (the provider's categories, an account that opens the content, the minimum age on the Paris date);
-- then consume_quota takes the unit, records the call and answers. No row: the key names no live
-- provider. The provider's last use is written at most once a minute (a dashboard's hint).
CREATE OR REPLACE FUNCTION consume_for_provider(
  p_key_hash text, p_patron_id uuid, p_period char(7), p_category "ContentCategory", p_key text, p_request_hash text,
  p_resource_id text, p_minimum_age int, p_now timestamptz
) RETURNS TABLE (
  provider_id uuid, categories text[], id uuid, granted boolean, error_code text, request_hash text, balance jsonb, period char(7), replayed boolean
)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
  v_provider uuid;
  v_categories "ContentCategory"[];
  v_last_used timestamptz;
  v_status "AccountStatus";
  v_birth date;
  v_library uuid;
  v_age int;
  v_refusal text;
BEGIN
  SELECT rp.id, rp.categories, rp.last_used_at INTO v_provider, v_categories, v_last_used
    FROM resource_provider rp
   WHERE (rp.api_key_hash = p_key_hash OR (rp.previous_key_hash = p_key_hash AND rp.previous_key_expires_at > p_now)) AND rp.revoked_at IS NULL;
  IF v_provider IS NULL THEN
    RETURN;
  END IF;
  IF v_last_used IS NULL OR v_last_used < p_now - interval '1 minute' THEN
    UPDATE resource_provider SET last_used_at = p_now WHERE resource_provider.id = v_provider;
  END IF;

  IF p_patron_id IS NOT NULL THEN
    SELECT pa.status, pa.birth_date, pa.library_id INTO v_status, v_birth, v_library FROM patron pa WHERE pa.id = p_patron_id;
  END IF;
  IF v_status IS NOT NULL THEN
    v_age := patron_age(v_birth, p_now);
  END IF;
  v_refusal := CASE
    WHEN NOT p_category = ANY (v_categories) THEN 'CATEGORY_NOT_ALLOWED'
    WHEN v_status IS NULL THEN 'NOT_FOUND'
    -- Open access needs a TEMPORARY or ACTIVE account, metered content an ACTIVE one.
    WHEN NOT (v_status = 'ACTIVE' OR (p_category = 'UNLIMITED' AND v_status = 'TEMPORARY')) THEN 'ACCOUNT_NOT_ACTIVE'
    WHEN p_minimum_age IS NOT NULL AND v_age < p_minimum_age THEN 'AGE_RESTRICTED'
  END;

  RETURN QUERY
    SELECT v_provider, v_categories::text[], c.id, c.granted, c.error_code, c.request_hash, c.balance, c.period, c.replayed
      FROM consume_quota(
        p_patron_id => CASE WHEN v_status IS NOT NULL THEN p_patron_id END, p_period => p_period, p_category => p_category,
        p_metered => v_refusal IS NULL AND p_category <> 'UNLIMITED', p_provider_id => v_provider, p_key => p_key,
        p_request_hash => p_request_hash, p_library_id => v_library, p_age_group => age_group_of(v_age), p_resource_id => p_resource_id,
        p_minimum_age => p_minimum_age, p_refusal => v_refusal, p_now => p_now) c;
END
$$;
