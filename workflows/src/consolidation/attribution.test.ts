import type { Aggregate } from '@tidemark/contracts';
import { emptyAccumulator, type Accumulator } from '@tidemark/stream/windowing';
import { describe, expect, it } from 'vitest';
import {
  attributeFixedWindow,
  attributeSessions,
  sessionWindowId,
  type KeptOutContribution,
  type SessionWindow,
} from './attribution';

const COUNT: Aggregate = { fn: 'count' };
const SUM: Aggregate = { fn: 'sum', of: { field: 'amount' } };
const MINUTE = 60_000;
const GAP = 30 * MINUTE;
const at = (hour: number, minute = 0) => Date.UTC(2026, 11, 5, hour, minute);
const DAY = { startMs: at(0), endMs: at(24) };

function counted(rows: number): Accumulator {
  return { ...emptyAccumulator(), rows };
}

function keptOut(
  eventTimeMs: number,
  overrides: Partial<KeptOutContribution> = {},
): KeptOutContribution {
  return {
    window: null,
    eventTimeMs,
    measure: null,
    sign: 1,
    reason: 'late_beyond_lateness',
    replayed: false,
    table: 'shop.orders',
    ...overrides,
  };
}

describe('attributeFixedWindow', () => {
  it('is exact when both sides agree, an empty window included', () => {
    expect(attributeFixedWindow(COUNT, { provisional: counted(3), final: 3 }, [])).toEqual({
      cause: 'exact',
      explanation: null,
    });
    expect(attributeFixedWindow(COUNT, { provisional: counted(0), final: null }, []).cause).toBe(
      'exact',
    );
  });

  it('explains a difference the kept-out contributions add up to, and names them', () => {
    const verdict = attributeFixedWindow(COUNT, { provisional: counted(3), final: 5 }, [
      keptOut(at(10)),
      keptOut(at(10, 1)),
    ]);
    expect(verdict).toEqual({
      cause: 'late_beyond_lateness',
      explanation: '2 late changes of shop.orders (+2)',
    });
  });

  it('accounts for sums and retractions of changes after close', () => {
    const provisional = { ...emptyAccumulator(), rows: 2, measured: 2, sum: 30 };
    const verdict = attributeFixedWindow(SUM, { provisional, final: 18 }, [
      keptOut(at(10), { measure: 12, sign: -1, reason: 'changed_after_close' }),
    ]);
    expect(verdict).toEqual({
      cause: 'changed_after_close',
      explanation: '1 change after close of shop.orders (−1)',
    });
  });

  it('calls a replayed dead letter by its name', () => {
    const verdict = attributeFixedWindow(COUNT, { provisional: null, final: 1 }, [
      keptOut(at(10), { replayed: true }),
    ]);
    expect(verdict).toEqual({
      cause: 'dead_lettered',
      explanation: '1 replayed dead letter of shop.orders (+1)',
    });
  });

  it('leaves unexplained what the ledger does not add up to, saying what it compared', () => {
    // Today's reconciliation took any late entry of the window as the cause of any difference.
    const verdict = attributeFixedWindow(COUNT, { provisional: counted(3), final: 6 }, [
      keptOut(at(10)),
    ]);
    expect(verdict).toEqual({
      cause: 'unexplained',
      explanation:
        'provisional 3 with the 1 contribution kept out (1 late change of shop.orders (+1)) ' +
        'gives 4, final 6',
    });
    expect(attributeFixedWindow(COUNT, { provisional: counted(4), final: 5 }, [])).toEqual({
      cause: 'unexplained',
      explanation: 'provisional 4, final 5, nothing kept out by the stream',
    });
  });
});

function sessions(...windows: [number, number, number][]): SessionWindow[] {
  return windows.map(([startMs, endMs, value]) => ({ startMs, endMs, value }));
}

function events(...times: number[]) {
  return times.map((eventTimeMs) => ({ eventTimeMs, measure: null }));
}

const verdictsOf = (verdicts: Map<string, unknown>, windows: readonly SessionWindow[]) =>
  windows.map((window) => verdicts.get(sessionWindowId(window)));

describe('attributeSessions', () => {
  const metric = { aggregate: COUNT, gapMs: GAP };

  it('explains a late order merging two provisional sessions', () => {
    const provisional = sessions([at(10), at(10, 30), 1], [at(10, 50), at(11, 20), 1]);
    const final = sessions([at(10), at(11, 20), 3]);
    const verdicts = attributeSessions(
      metric,
      DAY,
      { provisional, final, finalEvents: events(at(10), at(10, 25), at(10, 50)) },
      [keptOut(at(10, 25), { window: { startMs: at(10, 25), endMs: at(10, 55) } })],
    );
    expect(verdictsOf(verdicts, final)).toEqual([
      {
        cause: 'late_beyond_lateness',
        explanation: 'session merged from 2 provisional by 1 late change of shop.orders (+1)',
      },
    ]);
    expect(verdictsOf(verdicts, provisional).map((verdict) => verdict)).toEqual([
      {
        cause: 'late_beyond_lateness',
        explanation: 'provisional session replaced by 1 late change of shop.orders (+1)',
      },
      {
        cause: 'late_beyond_lateness',
        explanation: 'provisional session replaced by 1 late change of shop.orders (+1)',
      },
    ]);
  });

  it('explains several late orders forming sessions of their own, and extending one', () => {
    const provisional = sessions([at(9), at(9, 30), 1]);
    const final = sessions([at(9), at(9, 50), 2], [at(14), at(14, 50), 3]);
    const verdicts = attributeSessions(
      metric,
      DAY,
      {
        provisional,
        final,
        finalEvents: events(at(9), at(9, 20), at(14), at(14, 10), at(14, 20)),
      },
      [keptOut(at(9, 20)), keptOut(at(14)), keptOut(at(14, 10)), keptOut(at(14, 20))],
    );
    expect(verdictsOf(verdicts, final)).toEqual([
      {
        cause: 'late_beyond_lateness',
        explanation: 'session extended by 1 late change of shop.orders (+1)',
      },
      {
        cause: 'late_beyond_lateness',
        explanation: 'session formed by 3 late changes of shop.orders (+3)',
      },
    ]);
  });

  it('explains a session split by a change after close', () => {
    const provisional = sessions([at(10), at(11, 10), 3]);
    const final = sessions([at(10), at(10, 30), 1], [at(10, 40), at(11, 10), 1]);
    const verdicts = attributeSessions(
      metric,
      DAY,
      { provisional, final, finalEvents: events(at(10), at(10, 40)) },
      [keptOut(at(10, 20), { sign: -1, reason: 'changed_after_close', window: null })],
    );
    expect(verdictsOf(verdicts, provisional)).toEqual([
      {
        cause: 'changed_after_close',
        explanation: 'provisional session split into 2 by 1 change after close of shop.orders (−1)',
      },
    ]);
    expect(verdictsOf(verdicts, final).every((verdict) => verdict !== undefined)).toBe(true);
  });

  it('leaves a key unexplained when the kept-out contributions do not make its sessions', () => {
    const provisional = sessions([at(10), at(10, 30), 1]);
    const final = sessions([at(10), at(10, 50), 3]);
    const verdicts = attributeSessions(
      metric,
      DAY,
      { provisional, final, finalEvents: events(at(10), at(10, 10), at(10, 20)) },
      [keptOut(at(10, 20))],
    );
    expect(verdictsOf(verdicts, [...final, ...provisional])).toEqual([
      {
        cause: 'unexplained',
        explanation:
          'the final events without the 1 contribution kept out (1 late change of shop.orders ' +
          '(+1)) make sessions 10:00–10:40 (2); provisional 10:00–10:30 (1)',
      },
      expect.objectContaining({ cause: 'unexplained' }),
    ]);
  });

  it('leaves a key unexplained when a late addition is not among the final events', () => {
    const provisional = sessions([at(10), at(10, 30), 1]);
    const final = sessions([at(10), at(10, 30), 2]);
    const verdicts = attributeSessions(
      metric,
      DAY,
      { provisional, final, finalEvents: events(at(10), at(10)) },
      [keptOut(at(12))],
    );
    expect(verdicts.get(sessionWindowId(final[0]!))?.explanation).toMatch(
      /kept out by the stream is not among the final events/,
    );
  });

  it('compares only the sessions starting in the range, and measures as both sides keep them', () => {
    const provisional = sessions([at(23, 50), at(24, 20), 12]);
    const final = sessions([at(23, 50), at(24, 40), 19.5]);
    const verdicts = attributeSessions(
      { aggregate: SUM, gapMs: GAP },
      DAY,
      {
        provisional,
        final,
        // The batch reads numerics as strings; the ledger keeps the stream's numbers.
        finalEvents: [
          { eventTimeMs: at(23, 50), measure: '12.00' },
          { eventTimeMs: at(24, 10), measure: '7.5' },
          { eventTimeMs: at(25), measure: '1' },
        ],
      },
      [keptOut(at(24, 10), { measure: 7.5 })],
    );
    expect(verdicts.get(sessionWindowId(final[0]!))?.cause).toBe('late_beyond_lateness');
  });
});
