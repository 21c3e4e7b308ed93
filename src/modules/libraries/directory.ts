import type { PrismaClient } from '../../db/prisma.js';
import type { Library } from '../../generated/prisma/client.js';
import { searchTerms } from '../../lib/text.js';
import type { Libraries } from '../../instance.js';

/**
 * The network's libraries, kept in memory: a few hundred rows that every registration screen
 * reads and searches, and that change a few times a year. A search then costs no query at all, so
 * a flood of public searches cannot tie up the database or the event loop. Read again after
 * `ttlMs`, or at once after a change made by this instance.
 */
export class LibraryDirectory implements Libraries {
  private rows: Promise<Library[]> | undefined;
  private expiresAt = 0;

  constructor(
    private readonly prisma: PrismaClient,
    private readonly ttlMs = 30_000,
  ) {}

  private async all(): Promise<Library[]> {
    // One turn of the event loop first: a change's notification already received is applied.
    if (this.rows) await new Promise((resolve) => setImmediate(resolve));
    // Real time: this is the cache's freshness, not the application's "now".
    if (!this.rows || Date.now() >= this.expiresAt) {
      this.expiresAt = Date.now() + this.ttlMs;
      const rows = this.prisma.library.findMany({ orderBy: [{ name: 'asc' }, { code: 'asc' }] });
      this.rows = rows;
      rows.catch(() => {
        if (this.rows === rows) this.rows = undefined;
      });
    }
    return this.rows;
  }

  /** Libraries whose name or town contains every word of `search`, ignoring case and accents. */
  async search(search?: string | null, options: { includeClosed?: boolean } = {}): Promise<Library[]> {
    const terms = searchTerms(search);
    const rows = await this.all();
    return rows.filter((library) => (options.includeClosed || library.closedAt === null) && terms.every((term) => library.searchText.includes(term)));
  }

  invalidate(): void {
    this.rows = undefined;
  }
}
