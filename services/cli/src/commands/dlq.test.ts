import { TidemarkError } from '@tidemark/runtime';
import type { DeadLetterEntry, ReplayReport } from '@tidemark/stream';
import type { Kafka } from 'kafkajs';
import type { Knex } from 'knex';
import { describe, expect, it } from 'vitest';
import {
  dlqCommand,
  parseDlqArgs,
  parseSince,
  renderDeadLetters,
  renderReplayReport,
  type DlqListArgs,
} from './dlq';

const NOW = new Date('2026-11-23T12:00:00.000Z');

function rejection(argv: string[]): TidemarkError {
  try {
    parseDlqArgs(argv, NOW);
  } catch (error) {
    expect(error).toBeInstanceOf(TidemarkError);
    expect((error as TidemarkError).code).toBe('BAD_INPUT');
    return error as TidemarkError;
  }
  throw new Error(`expected ${argv.join(' ')} to be rejected`);
}

describe('parseDlqArgs', () => {
  it('lists the 50 newest unreplayed dead letters by default', () => {
    expect(parseDlqArgs(['list'], NOW)).toEqual({
      action: 'list',
      limit: 50,
      includeReplayed: false,
      json: false,
    });
  });

  it('reads every list option', () => {
    expect(
      parseDlqArgs(
        [
          'list',
          '--since',
          '1h',
          '--code',
          'contract_violation',
          '--table',
          'shop.orders',
          '--limit',
          '10',
          '--all',
          '--json',
        ],
        NOW,
      ),
    ).toEqual({
      action: 'list',
      since: new Date('2026-11-23T11:00:00.000Z'),
      code: 'CONTRACT_VIOLATION',
      table: 'shop.orders',
      limit: 10,
      includeReplayed: true,
      json: true,
    });
  });

  it('reads every replay option, ids repeated or comma-separated', () => {
    expect(
      parseDlqArgs(
        [
          'replay',
          '--since',
          '2026-11-22T10:00:00Z',
          '--id',
          '7',
          '--id',
          '9,12',
          '--id=7',
          '--dry-run',
        ],
        NOW,
      ),
    ).toEqual({
      action: 'replay',
      since: new Date('2026-11-22T10:00:00.000Z'),
      ids: [7, 9, 12],
      dryRun: true,
      json: false,
    });
    expect(parseDlqArgs(['replay'], NOW)).toEqual({
      action: 'replay',
      dryRun: false,
      json: false,
    });
  });

  it.each([
    [['list', '--code', 'SOMETHING'], '--code: expected one of NOT_JSON, NOT_AN_ENVELOPE'],
    [['list', '--limit', '0'], '--limit: expected a whole number from 1 to 10000, got "0"'],
    [['list', '--limit', '20000'], '--limit: expected a whole number from 1 to 10000'],
    [['list', '--limit', '5.5'], '--limit: expected a whole number from 1 to 10000, got "5.5"'],
    [['list', '--table', 'orders'], '--table: expected a source table as schema.table'],
    [['list', '--since', 'yesterday'], '--since: expected a duration such as 30m, 1h or 7d'],
    [['replay', '--since', '2026-13-45'], '--since: expected a duration such as 30m'],
    [['replay', '--id', 'abc'], `--id: expected a dead letter's id, a whole number, got "abc"`],
    [['replay', '--id', '0'], `--id: expected a dead letter's id, a whole number, got "0"`],
    [['replay', '--id', '-3'], "Option '--id' argument is ambiguous"],
  ])('rejects %j: %s', (argv, message) => {
    expect(rejection(argv).message).toContain(message);
  });

  it('rejects a missing or unknown subcommand, unknown options and stray arguments, with the usage', () => {
    expect(rejection([]).message).toMatch(/expected a subcommand, "list" or "replay"[\s\S]*usage:/);
    expect(rejection(['show']).message).toMatch(/unknown subcommand "show"/);
    expect(rejection(['replay', '--limit', '5']).message).toMatch(
      /^replay: Unknown option '--limit'[\s\S]*usage: tidemark dlq list/,
    );
    expect(rejection(['list', '--dry-run']).message).toMatch(/^list: Unknown option '--dry-run'/);
    expect(rejection(['list', 'now']).message).toMatch(/^list: Unexpected argument 'now'/);
    expect(rejection(['replay', '--since']).message).toMatch(
      /Option '--since <value>' argument missing/,
    );
  });

  it('lists every problem at once', () => {
    const { message } = rejection(['list', '--since', 'soon', '--limit', 'x', '--code', 'y']);
    expect(message).toContain('--since: expected');
    expect(message).toContain('--limit: expected');
    expect(message).toContain('--code: expected');
  });
});

describe('parseSince', () => {
  it.each([
    ['90s', '2026-11-23T11:58:30.000Z'],
    ['15m', '2026-11-23T11:45:00.000Z'],
    ['1h', '2026-11-23T11:00:00.000Z'],
    ['1.5h', '2026-11-23T10:30:00.000Z'],
    ['7d', '2026-11-16T12:00:00.000Z'],
    ['1w', '2026-11-16T12:00:00.000Z'],
    ['2026-11-22', '2026-11-22T00:00:00.000Z'],
    ['2026-11-22T10:00', '2026-11-22T10:00:00.000Z'],
    ['2026-11-22 10:00:05', '2026-11-22T10:00:05.000Z'],
    ['2026-11-22T10:00:00.250Z', '2026-11-22T10:00:00.250Z'],
    ['2026-11-22T10:00:00+02:00', '2026-11-22T08:00:00.000Z'],
  ])('reads %s as %s', (text, expected) => {
    expect(parseSince(text, NOW)?.toISOString()).toBe(expected);
  });

  it.each(['', 'yesterday', '1 hour', '10', '2026-11-32', '22/11/2026'])('refuses %j', (text) => {
    expect(parseSince(text, NOW)).toBeUndefined();
  });
});

describe('dlqCommand', () => {
  it('refuses bad arguments before touching the warehouse or Kafka', async () => {
    const untouchable = <T>() =>
      new Proxy(
        {},
        {
          get() {
            throw new Error('a dependency was used');
          },
        },
      ) as T;
    const lines: string[] = [];
    await expect(
      dlqCommand(['replay', '--id', 'x'], {
        warehouse: untouchable<Knex>(),
        kafka: untouchable<Kafka>(),
        print: (line) => lines.push(line),
      }),
    ).rejects.toThrow(/--id: expected a dead letter's id/);
    expect(lines).toEqual([]);
  });
});

const ENTRY: DeadLetterEntry = {
  id: 21,
  receivedAt: new Date('2026-11-23T04:20:11.512Z'),
  topic: 'tidemark.shop.orders',
  partition: 0,
  offset: '5712',
  code: 'CONTRACT_VIOLATION',
  path: 'after.currency',
  message: 'shop.orders v2: an ISO-4217 code such as EUR',
  issues: [
    { code: 'invalid_format', path: 'after.currency', message: 'an ISO-4217 code such as EUR' },
    { code: 'too_small', path: 'after.amount_minor', message: 'Too small: expected >=0' },
  ],
  rawBytes: 512,
  replayedAt: null,
  replayTopic: null,
  replayAttempts: 1,
  lastReplayError: 'CONTRACT_VIOLATION at after.currency: ...',
};

describe('renderDeadLetters', () => {
  const args: DlqListArgs = { action: 'list', limit: 50, includeReplayed: true, json: false };

  it('shows one row per dead letter, with its issues counted and whether it was replayed', () => {
    expect(
      renderDeadLetters(
        [
          ENTRY,
          {
            ...ENTRY,
            id: 9,
            offset: '88',
            path: 'after.channel',
            message: 'shop.orders v1: Unrecognized key: "channel"',
            issues: [{ code: 'unrecognized_keys', path: 'after.channel', message: '' }],
            replayedAt: new Date('2026-11-23T04:30:00Z'),
          },
        ],
        args,
      ),
    ).toBe(
      [
        'id  received             topic/partition/offset       code                path                 message                                       replayed',
        '--  -------------------  ---------------------------  ------------------  -------------------  --------------------------------------------  -------------------',
        '21  2026-11-23 04:20:11  tidemark.shop.orders/0/5712  CONTRACT_VIOLATION  after.currency (+1)  shop.orders v2: an ISO-4217 code such as EUR  no (1 attempt)',
        ' 9  2026-11-23 04:20:11  tidemark.shop.orders/0/88    CONTRACT_VIOLATION  after.channel        shop.orders v1: Unrecognized key: "channel"   2026-11-23 04:30:00',
        '',
        '2 dead letters (replayed or not), newest first',
      ].join('\n'),
    );
  });

  it('says when there is none', () => {
    expect(renderDeadLetters([], { ...args, includeReplayed: false })).toBe(
      'no dead letters (not replayed yet)',
    );
  });
});

describe('renderReplayReport', () => {
  const source = { topic: 'tidemark.shop.orders', partition: 0, offset: '5712' };
  const report: ReplayReport = {
    dryRun: false,
    considered: 3,
    replayed: [
      {
        id: 9,
        source: { ...source, offset: '88' },
        topic: 'tidemark.shop.orders',
        partition: 0,
        key: '{"id":"59ab8c09"}',
      },
    ],
    stillFailing: [
      {
        id: 21,
        source,
        code: 'CONTRACT_VIOLATION',
        path: 'after.currency',
        message: 'shop.orders v2: an ISO-4217 code such as EUR',
        issues: ENTRY.issues,
      },
    ],
    failed: [],
    skipped: [
      { id: 30, source, reason: 'not_a_change', detail: 'a tombstone, not a change event' },
      { id: 99, reason: 'not_found', detail: 'no dead letter has this id' },
    ],
  };

  it('shows what happened to each dead letter, then the counts', () => {
    expect(renderReplayReport(report)).toBe(
      [
        '3 dead letters considered',
        '',
        'id  source                       outcome        detail',
        '--  ---------------------------  -------------  --------------------------------------------------------------------------------------------------',
        ' 9  tidemark.shop.orders/0/88    replayed       -> tidemark.shop.orders/0 key {"id":"59ab8c09"}',
        '21  tidemark.shop.orders/0/5712  still failing  CONTRACT_VIOLATION at after.currency: shop.orders v2: an ISO-4217 code such as EUR (+1 more issue)',
        '30  tidemark.shop.orders/0/5712  skipped        not a change: a tombstone, not a change event',
        '99  -                            skipped        not found: no dead letter has this id',
        '',
        'replayed 1, still failing 1, skipped 2',
      ].join('\n'),
    );
  });

  it('says a dry run changed nothing', () => {
    const text = renderReplayReport({ ...report, dryRun: true });
    expect(text).toContain('3 dead letters considered (dry run: nothing produced, nothing marked)');
    expect(text).toContain('would replay   -> tidemark.shop.orders/0');
    expect(text).toContain('would replay 1, still failing 1, skipped 2');
  });

  it('says when there was nothing to replay', () => {
    expect(
      renderReplayReport({
        dryRun: false,
        considered: 0,
        replayed: [],
        stillFailing: [],
        failed: [],
        skipped: [],
      }),
    ).toBe('0 dead letters considered: nothing to replay');
  });
});
