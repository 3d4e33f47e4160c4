import { describe, expect, it } from 'vitest';
import { lockWaitsOf, statementLabel, summarizeActivity, type ActivitySample } from './sql-profile';

describe('statementLabel', () => {
  it('names the verb and table of the statements knex and the sink write', () => {
    expect(
      statementLabel('insert into "raw"."change_events" ("after", "before") values ($1, $2)'),
    ).toBe('insert raw.change_events');
    expect(
      statementLabel(
        'select "source_table", "primary_key", "lsn" from "stream"."row_versions" where "pipeline" = $1',
      ),
    ).toBe('select stream.row_versions');
    expect(statementLabel('update "provisional"."metric_values" set "value" = $1')).toBe(
      'update provisional.metric_values',
    );
    expect(statementLabel('DELETE FROM provisional.metric_values AS v USING unnest($1)')).toBe(
      'delete provisional.metric_values',
    );
    expect(statementLabel('SELECT raw.ensure_change_event_partitions($1::date[])')).toBe(
      'select raw.ensure_change_event_partitions()',
    );
    expect(statementLabel('COPY raw.change_events (source_table, op) FROM STDIN')).toBe(
      'copy raw.change_events',
    );
    expect(statementLabel('COMMIT;')).toBe('commit');
  });
});

describe('summarizeActivity', () => {
  it('splits ticks into PostgreSQL executing and the client holding a transaction', () => {
    const insert: ActivitySample = {
      state: 'active',
      waitEventType: null,
      query: 'insert into "raw"."change_events" ("a") values ($1)',
    };
    const planning: ActivitySample = {
      state: 'idle in transaction',
      waitEventType: 'Client',
      query: 'select "entries" from "stream"."session_state" where "pipeline" = $1',
    };
    const profile = summarizeActivity([[insert], [insert], [planning], []]);
    expect(profile).toEqual({
      ticks: 4,
      inTransactionShare: 0.75,
      inPostgres: [{ statement: 'insert raw.change_events', share: 0.5 }],
      inClient: [{ statement: 'select stream.session_state', share: 0.25 }],
    });
  });

  it('tells a statement waiting on a lock apart from one working', () => {
    const merge = 'insert into "provisional"."metric_values" ("a") values ($1)';
    const profile = summarizeActivity([
      [
        { state: 'active', waitEventType: 'Lock', waitEvent: 'transactionid', query: merge },
        { state: 'active', waitEventType: null, waitEvent: null, query: merge },
      ],
      [{ state: 'active', waitEventType: 'Lock', waitEvent: 'transactionid', query: merge }],
    ]);
    expect(profile.inPostgres).toEqual([
      { statement: 'insert provisional.metric_values [Lock:transactionid wait]', share: 1 },
      { statement: 'insert provisional.metric_values', share: 0.5 },
    ]);
  });

  it('is empty without ticks', () => {
    expect(summarizeActivity([])).toEqual({
      ticks: 0,
      inTransactionShare: 0,
      inPostgres: [],
      inClient: [],
    });
  });
});

describe('lockWaitsOf', () => {
  it('counts the backends waiting on a lock, by what they waited on, and nothing else', () => {
    const active = (waitEventType: string | null, waitEvent: string | null) => ({
      state: 'active',
      waitEventType,
      waitEvent,
      query: 'INSERT INTO provisional.metric_values ...',
    });
    const ticks = [
      [active('Lock', 'transactionid'), active('LWLock', 'BufferContent')],
      [active('Lock', 'transactionid'), active('Lock', 'extend'), active(null, null)],
      [{ ...active('Lock', 'tuple'), state: 'idle in transaction' }],
      [],
    ];
    expect(lockWaitsOf(ticks)).toEqual({
      samples: 3,
      byEvent: { transactionid: 2, extend: 1 },
      ticks: 4,
    });
    expect(lockWaitsOf([[active('IO', 'DataFileRead')]]).samples).toBe(0);
  });
});
