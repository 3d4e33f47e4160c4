import { describe, expect, it } from 'vitest';
import { renderTable } from './table';

describe('renderTable', () => {
  it('pads text left-aligned and numbers right-aligned under a rule', () => {
    const table = renderTable(
      ['order', 'ms'],
      [
        ['a1', 5],
        ['b', 120],
      ],
    );
    expect(table.split('\n')).toEqual(['order   ms', '-----  ---', 'a1       5', 'b      120']);
  });

  it('renders a header alone when there are no rows', () => {
    expect(renderTable(['x'], [])).toBe('x\n-');
  });
});
