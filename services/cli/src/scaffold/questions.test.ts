import { EVENT_CONTRACTS } from '@tidemark/contracts';
import { describe, expect, it } from 'vitest';
import { askNewContractVersion, askNewMetric, askNewTable, type Ask } from './questions';

/** Answers the questions in turn, recording each and what the check said of each answer. */
function scripted(answers: string[]) {
  const asked: string[] = [];
  const problems: (string | undefined)[] = [];
  const next = () => {
    const answer = answers.shift();
    if (answer === undefined) throw new Error('asked more than the script answers');
    return answer;
  };
  const ask: Ask = {
    text: async ({ message, check }) => {
      asked.push(message);
      let answer = next();
      // As a terminal does: an answer with a problem is asked again.
      for (let problem = check?.(answer); problem !== undefined; problem = check?.(answer)) {
        problems.push(problem);
        answer = next();
      }
      return answer;
    },
    choose: async ({ message, choices }) => {
      asked.push(message);
      const answer = next();
      if (!choices.some((choice) => choice.value === answer))
        throw new Error(`no choice ${answer}`);
      return answer;
    },
  };
  return { ask, asked, problems };
}

describe('asking for what tidemark new leaves out', () => {
  it('asks for a table and its columns, again after an answer with a problem', async () => {
    const { ask, asked, problems } = scripted([
      'refunds',
      'shop.refunds',
      'id:uuid',
      'id:uuid:pk,created_at:timestamptz',
    ]);
    expect(await askNewTable([], ask)).toEqual([
      'shop.refunds',
      '--columns',
      'id:uuid:pk,created_at:timestamptz',
    ]);
    expect(asked).toHaveLength(2);
    expect(problems).toEqual([
      'expected a table as schema.table in lower case, e.g. shop.refunds, got "refunds"',
      '--columns:\n  no primary key: mark its column(s) with :pk, e.g. id:uuid:pk',
    ]);
  });

  it('asks nothing the arguments already say', async () => {
    const argv = ['shop.refunds', '--columns', 'id:uuid:pk,created_at:timestamptz'];
    const { ask, asked } = scripted([]);
    expect(await askNewTable(argv, ask)).toEqual(argv);
    expect(await askNewContractVersion(['shop.orders'], ask, EVENT_CONTRACTS)).toEqual([
      'shop.orders',
    ]);
    expect(asked).toEqual([]);
  });

  it('asks for a metric: its name, a table with a contract, the aggregate and its field, the window', async () => {
    const { ask, asked, problems } = scripted([
      'Revenue',
      'revenue_per_hour',
      'shop.orders',
      'sum',
      'amount_minor',
      'weekly',
      'tumbling:1h',
    ]);
    expect(await askNewMetric([], ask, EVENT_CONTRACTS)).toEqual([
      'revenue_per_hour',
      '--table',
      'shop.orders',
      '--aggregate',
      'sum:amount_minor',
      '--window',
      'tumbling:1h',
    ]);
    expect(asked).toEqual([
      'Metric name (lower snake_case):',
      'Source table:',
      'Aggregate:',
      'sum of which field:',
      'Window (tumbling:1h, hopping:5m/1m, session:30m):',
    ]);
    expect(problems).toEqual([
      'lower snake_case, e.g. refunds_per_hour',
      '--window: expected tumbling:<size>, hopping:<size>/<slide> or session:<gap>, got "weekly"',
    ]);
  });

  it('asks which table gets a new contract version', async () => {
    const { ask } = scripted(['shop.payments']);
    expect(await askNewContractVersion(['--add', 'note:text'], ask, EVENT_CONTRACTS)).toEqual([
      'shop.payments',
      '--add',
      'note:text',
    ]);
  });
});
