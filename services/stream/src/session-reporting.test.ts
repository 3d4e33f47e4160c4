import type { Logger } from '@tidemark/runtime';
import { describe, expect, it } from 'vitest';
import type { QueuedSessionsResult } from './session-store';
import { SessionReporter, type SessionStats } from './session-reporting';
import type { LateContribution } from './windowing/plan';

function recordingLogger(warnings: string[]): Logger {
  const logger: Logger = {
    debug: () => undefined,
    info: () => undefined,
    warn: (message) => void warnings.push(message),
    error: () => undefined,
    child: () => logger,
  };
  return logger;
}

const late = (table: string) => ({ table }) as LateContribution;
const result = (over: Partial<QueuedSessionsResult>): QueuedSessionsResult => ({
  batches: 1,
  more: false,
  inputs: 3,
  sessions: 2,
  late: [],
  heldBackBy: [],
  ...over,
});

describe('SessionReporter', () => {
  function setUp() {
    const warnings: string[] = [];
    const reported: SessionStats[] = [];
    let nowMs = 0;
    const reporter = new SessionReporter({
      topics: new Map([['shop.orders', 'tidemark.shop.orders']]),
      logger: recordingLogger(warnings),
      now: () => nowMs,
      onSessions: (stats) => void reported.push(stats),
    });
    return { warnings, reported, reporter, setNow: (ms: number) => (nowMs = ms) };
  }

  it('reports an application with its late contributions counted by topic', () => {
    const { reported, reporter, warnings } = setUp();
    reporter.report(result({ late: [late('shop.orders'), late('shop.orders'), late('x.y')] }));
    expect(reported).toEqual([
      {
        batches: 1,
        inputs: 3,
        sessions: 2,
        lateByTopic: new Map([
          ['tidemark.shop.orders', 2],
          ['x.y', 1],
        ]),
      },
    ]);
    expect(warnings).toEqual(['late session contributions']);
  });

  it('reports nothing for an application that applied nothing', () => {
    const { reported, reporter } = setUp();
    reporter.report(result({ inputs: 0 }));
    expect(reported).toEqual([]);
  });

  it('warns of contributions held back once a minute, or when the metrics change', () => {
    const { reporter, warnings, setNow } = setUp();
    const heldBack =
      'queued session contributions wait for a consumer computing metrics this one lacks';
    reporter.report(result({ inputs: 0, heldBackBy: ['a'] }));
    setNow(30_000);
    reporter.report(result({ inputs: 0, heldBackBy: ['a'] }));
    expect(warnings).toEqual([heldBack]);
    reporter.report(result({ inputs: 0, heldBackBy: ['a', 'b'] }));
    expect(warnings).toEqual([heldBack, heldBack]);
    setNow(90_001);
    reporter.report(result({ inputs: 0, heldBackBy: ['a', 'b'] }));
    expect(warnings).toEqual([heldBack, heldBack, heldBack]);
  });
});
