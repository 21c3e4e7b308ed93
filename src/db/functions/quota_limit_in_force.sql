-- One category's limit in force for a period.
CREATE OR REPLACE FUNCTION quota_limit_in_force(p_period char(7), p_category "ContentCategory") RETURNS int
LANGUAGE sql STABLE AS $$
  SELECT f."limit" FROM quota_limits_in_force(p_period) f WHERE f.category = p_category
$$;
