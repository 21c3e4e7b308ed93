-- The limits in force for a period (YYYY-MM): the latest policy started at or before it, category
-- by category, else the seed's.
CREATE OR REPLACE FUNCTION quota_limits_in_force(p_period char(7)) RETURNS TABLE (category "ContentCategory", "limit" int, effective_from char(7))
LANGUAGE sql STABLE AS $$
  SELECT s.category, coalesce(l."limit", s."limit"), coalesce(p.effective_from, s.effective_from)
    FROM quota_seed_limits() s
    LEFT JOIN LATERAL (SELECT q.id, q.effective_from FROM quota_policy q WHERE q.effective_from <= p_period
                        ORDER BY q.effective_from DESC LIMIT 1) p ON true
    LEFT JOIN quota_limit l ON l.policy_id = p.id AND l.category = s.category
$$;
