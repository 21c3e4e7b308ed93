-- What a patron used and may still use in a period, per metered category.
CREATE OR REPLACE FUNCTION quota_balance(p_patron_id uuid, p_period char(7)) RETURNS TABLE (category "ContentCategory", "limit" int, used int)
LANGUAGE sql STABLE AS $$
  SELECT f.category, f."limit", coalesce(u.used, 0)
    FROM quota_limits_in_force(p_period) f
    LEFT JOIN quota_usage u ON u.patron_id = p_patron_id AND u.period = p_period AND u.category = f.category
$$;
