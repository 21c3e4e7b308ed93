// Link tokens' SQL. A token is minted by the database (mint_token(), hashed by secret_hash():
// prisma/migrations/*_quota_rules_once), the one definition shared with the jobs that mint
// thousands at once (renewal reminders).
import type { Sql } from '../../db/sql.js';
import type { TokenPurpose } from '../../generated/prisma/enums.js';

export interface TokenGrant {
  purpose: TokenPurpose;
  patronId: string | null;
  staffId: string | null;
  requestId: string | null;
  now: Date;
  expiresAt: Date;
}

/**
 * Mints a token and stores its hash, replacing the owner's live tokens of the same purpose, in one
 * statement. Returns the token itself: it exists nowhere else once the e-mail is sent.
 */
export async function mintToken(sql: Sql, grant: TokenGrant): Promise<string> {
  const { rows } = await sql.query<{ token: string }>(
    `WITH minted AS MATERIALIZED (SELECT mint_token() AS token),
     replaced AS (
       UPDATE one_time_token SET replaced_at = $5
        WHERE purpose = $1::"TokenPurpose" AND used_at IS NULL AND replaced_at IS NULL
          AND CASE WHEN $3::uuid IS NULL THEN patron_id = $2::uuid ELSE staff_id = $3::uuid END
     ),
     stored AS (
       INSERT INTO one_time_token (purpose, token_hash, patron_id, staff_id, request_id, created_at, expires_at)
       SELECT $1::"TokenPurpose", secret_hash(token), $2::uuid, $3::uuid, $4::uuid, $5, $6 FROM minted
     )
     SELECT token FROM minted`,
    [grant.purpose, grant.patronId, grant.staffId, grant.requestId, grant.now, grant.expiresAt],
  );
  return rows[0]!.token;
}
