// Providers' API keys, resolved through the providers module's service.
import type { Sql } from '../db/sql.js';
import { providerByKey, recordProviderUse } from '../modules/providers/service.js';
import type { ProviderIdentity, ProviderKeyLookup } from './caller.js';

/**
 * Providers' API keys. Each call looks its key up (one indexed read): no per-instance cache, so no
 * instance can keep accepting a key after its revocation or the end of its rotation's overlap
 * (a revocation holds from the next request on). `lastUsedAt`, a hint for the DLPB's
 * dashboard, is written at most once a minute per instance.
 */
export class ProviderKeys implements ProviderKeyLookup {
  /** When this instance last wrote `last_used_at`, per provider (real time). */
  private readonly touched = new Map<string, number>();

  constructor(private readonly sql: Sql) {}

  async resolve(tokenHash: string, now: Date): Promise<ProviderIdentity | null> {
    const provider = await providerByKey(this.sql, tokenHash, now);
    if (!provider) return null;
    this.touch(provider.id, now);
    return { providerId: provider.id, categories: provider.categories };
  }

  private touch(providerId: string, now: Date): void {
    const last = this.touched.get(providerId) ?? 0;
    if (Date.now() - last < 60_000) return;
    if (this.touched.size > 1_000) this.touched.clear();
    this.touched.set(providerId, Date.now());
    recordProviderUse(this.sql, providerId, now).catch(() => this.touched.delete(providerId));
  }
}
