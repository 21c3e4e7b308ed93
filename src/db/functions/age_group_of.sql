-- The age groups of the statistics: CHILD under 12 (the children's space), TEEN 12 to 17, ADULT 18
-- and over (as src/lib/calendar.ts ageGroupOf, which test/db/rules.test.ts compares with this one).
CREATE OR REPLACE FUNCTION age_group_of(p_age int) RETURNS "AgeGroup"
LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN p_age IS NULL THEN NULL WHEN p_age < 12 THEN 'CHILD' WHEN p_age < 18 THEN 'TEEN' ELSE 'ADULT' END::"AgeGroup"
$$;
