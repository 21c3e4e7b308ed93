// Rows of hand-written SQL are checked at the store's edge: a wrong shape fails at once, naming the
// statement and the column, never a value it held.
import { describe, expect, it } from 'vitest';
import { column, rowsOf, z } from '../../src/db/rows.js';

const Shape = z.object({ id: column.uuid, used: column.count, at: column.instant });

describe('rowsOf', () => {
  it('passes rows of the expected shape', () => {
    const row = { id: '00000000-0000-4000-8000-000000000000', used: 3, at: new Date() };
    expect(rowsOf(Shape, [row], 'test')).toEqual([row]);
  });

  it.each([
    ['a count read as text (bigint without a cast)', { id: '00000000-0000-4000-8000-000000000000', used: '3', at: new Date() }, 'used'],
    ['a missing column', { id: '00000000-0000-4000-8000-000000000000', at: new Date() }, 'used'],
    ['an instant read as text', { id: '00000000-0000-4000-8000-000000000000', used: 3, at: '2026-12-06' }, 'at'],
  ])('refuses %s, naming the statement and the column', (_case, row, columnName) => {
    expect(() => rowsOf(Shape, [row], 'consume_quota')).toThrow(new RegExp(`^consume_quota : ligne inattendue \\(${columnName}: `));
    try {
      rowsOf(Shape, [{ ...row, id: 'secret-value' }], 'consume_quota');
    } catch (error) {
      expect((error as Error).message).not.toContain('secret-value');
    }
  });
});
