// Rows from hand-written SQL, checked at the store's edge (as GraphQL Hive's stores do with zod):
// what a statement returns has the shape the rules expect, or the store fails at once, naming the
// statement, instead of a cast letting a wrong shape travel into a decision.
import { z } from 'zod';

export { z };

/** Every row of a statement's result, parsed by `row`; an error names the statement (no value of the rows). */
export function rowsOf<S extends z.ZodType>(row: S, rows: unknown[], statement: string): z.infer<S>[] {
  return rows.map((value) => {
    const parsed = row.safeParse(value);
    if (!parsed.success) {
      const where = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(row)'}: ${issue.code}`).join(', ');
      throw new Error(`${statement} : ligne inattendue (${where})`);
    }
    return parsed.data;
  });
}

/** Column types as both `pg` and Prisma's raw queries give them. */
export const column = {
  uuid: z.string().regex(/^[0-9a-f-]{36}$/i),
  instant: z.date(),
  /** A calendar month, YYYY-MM (char(7)). */
  period: z.string().regex(/^\d{4}-\d{2}$/),
  count: z.number().int().nonnegative(),
};
