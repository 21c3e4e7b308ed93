// What a library's own system (SIGB) is asked, and what NuMos keeps of its answer: figures (dates,
// a validity flag), never the library's record. Each kind of system has an adapter (Koha's REST
// API, SIP2) that turns one lookup into calls on the network; the service (../service.ts) wraps
// it with the tries, the time limit, the per-library concurrency and rate limits and the pause.

/** How the applicant was found (the contract's MembershipMatch). */
export type MembershipMatch = 'CARD_NUMBER' | 'EMAIL' | 'NAME_AND_BIRTH_DATE';

/** Who to look for: what the request (or the staff's test) knows of the person. */
export interface ApplicantQuery {
  cardNumber?: string | null;
  email?: string | null;
  lastName?: string | null;
  firstName?: string | null;
  /** YYYY-MM-DD. */
  birthDate?: string | null;
}

/** The figures read from the library's record. Dates are calendar dates, YYYY-MM-DD. */
export interface MemberFacts {
  enrolledOn: string | null;
  renewedOn: string | null;
  /** The membership's expiry in the library's system. */
  expiresOn: string | null;
  /** The birth date when the system gives a full one. */
  birthDate: string | null;
  /** The birth year whenever the system gives one (from a full date or a year alone). */
  birthYear: number | null;
  /**
   * What the system itself says of the membership's validity: SIP2's `BL` (valid patron) with no
   * privileges-denied or expiry signal; Koha's `expired`/`restricted` flags. Null when it says nothing.
   */
  valid: boolean | null;
  /** When `valid` is false: why, in French, for the librarian (e.g. « carte signalée perdue »). */
  invalidReason?: string | null;
}

export type Lookup =
  | { found: 'one'; matchedBy: MembershipMatch; facts: MemberFacts }
  /** `note`: why nothing could be searched (e.g. SIP2 without a card number), in French. */
  | { found: 'none'; note?: string }
  | { found: 'many'; matchedBy: MembershipMatch; count: number };

/**
 * A call that failed: unreachable, refused, timed out, malformed or oversized answer, wrong
 * checksum, authentication refused… `message` is French, for the librarian, and never carries a
 * secret (nor the library's record). `retryable`: another try may succeed (network, 5xx, timeout);
 * false for what a retry cannot mend (authentication refused, address not allowed, bad settings).
 */
export class ConnectorFailure extends Error {
  constructor(
    message: string,
    readonly retryable = true,
  ) {
    super(message);
    this.name = 'ConnectorFailure';
  }
}

export type ConnectorKind = 'KOHA_REST' | 'SIP2';

/** Koha's authentication: OAuth2 client credentials (Koha's recommended way) or HTTP Basic. */
export type KohaAuthentication = 'OAUTH2' | 'BASIC';

/** A connector's settings, the secret decrypted (it lives in memory only for the call). */
export interface ConnectorSettings {
  /** The library, as the key of per-library state an adapter keeps (Koha's OAuth2 token). */
  libraryId: string;
  kind: ConnectorKind;
  /** Koha: the REST API's base URL (https://…/api/v1). SIP2: host:port. */
  endpoint: string;
  /** SIP2: TLS on the connection. Koha: the URL's scheme says it. */
  tls: boolean;
  /** Koha: the OAuth2 client id or the Basic user. SIP2: the login user (CN). */
  username: string | null;
  /** Koha: the client secret or the Basic password. SIP2: the login password (CO). */
  secret: string | null;
  kohaAuthentication: KohaAuthentication;
  /** SIP2: institution id (AO) and location code (CP). */
  institutionId: string | null;
  locationCode: string | null;
  /** SIP2: the patron information field (two letters, e.g. PA or DE) that carries the expiry date. */
  expiryField: string | null;
}

/** Where a connector may connect (checked by ./network.ts). */
export interface NetworkPolicy {
  /** Host names (exact, case-insensitive) and CIDR ranges or addresses that may be reached although private. */
  allowedHosts: string[];
  /** Plain HTTP and TCP allowed (tests, a library's intranet): else HTTPS and TLS only. */
  allowPlaintext: boolean;
}

/** What every call gets: the network's rules, its time limit, the largest answer taken. */
export interface CallOptions {
  network: NetworkPolicy;
  /** The whole lookup's time limit (SPEC: 5 seconds), whatever the number of round trips. */
  timeoutMs: number;
  /** Answers larger than this are failures (SPEC: 1 MiB). */
  maxBytes: number;
  /** Extra certificate authorities trusted for TLS (a library's self-signed SIP2 server), PEM. */
  ca?: string[];
  /** The clock's "now", for SIP2's transaction date. */
  now: Date;
}

/** One kind of library system. */
export interface MembershipAdapter {
  lookup(settings: ConnectorSettings, query: ApplicantQuery, options: CallOptions): Promise<Lookup>;
}
