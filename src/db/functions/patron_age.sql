-- A person's age in whole years on the Paris calendar date of an instant: a person born on 29
-- February turns a year older on 1 March (as src/lib/calendar.ts ageAt, which test/db/rules.test.ts
-- compares with this one).
CREATE OR REPLACE FUNCTION patron_age(p_birth date, p_at timestamptz) RETURNS int
LANGUAGE sql IMMUTABLE AS $$
  SELECT extract(year FROM age((p_at AT TIME ZONE 'Europe/Paris')::date, p_birth))::int
$$;
