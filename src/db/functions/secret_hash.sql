-- The SHA-256 hex hash under which secrets are stored (src/lib/secrets.ts, hashSecret).
CREATE OR REPLACE FUNCTION secret_hash(p_secret text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
  SELECT encode(sha256(convert_to(p_secret, 'UTF8')), 'hex')
$$;
