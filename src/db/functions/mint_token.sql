-- Link tokens (confirmation, password reset, renewal, e-mail change), minted in one place whether
-- a service issues one or a job thousands: two version-4 UUIDs (244 bits from the server's strong
-- random source) in base64url, stored as the SHA-256 hex hash of src/lib/secrets.ts (hashSecret).
CREATE OR REPLACE FUNCTION mint_token() RETURNS text
LANGUAGE sql VOLATILE AS $$
  SELECT rtrim(translate(encode(uuid_send(gen_random_uuid()) || uuid_send(gen_random_uuid()), 'base64'), '+/', '-_'), '=')
$$;
