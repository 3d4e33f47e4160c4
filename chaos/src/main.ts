import { REPO_ROOT } from '@tidemark/cli';
import { createLogger, loadConfig } from '@tidemark/runtime';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { FAULTS, parseFaults } from './plan';
import { renderChaosTable } from './report';
import { runChaos, type ChaosOptions } from './run-chaos';

// npm run chaos [-- --rounds 2 --rate 200 --faults worker,stream,...]: the platform under a
// steady load while its processes and the stack's services are killed -9 in turn; prints a
// table and writes bench/results/chaos.json. Exit 1 when anything was lost, counted twice or
// did not recover.

const USAGE = `npm run chaos -- [--rounds 2] [--rate 200] [--faults ${FAULTS.join(',')}]
                     [--seed 1] [--backfill-days 5] [--min-wait 3] [--max-wait 8] [--recovery-timeout 180]
                     [--flood 10000] (poison rows beside as many good ones first; 0: none)
  (waits and timeouts in seconds)`;

function options(argv: string[]): ChaosOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      rounds: { type: 'string', default: '2' },
      rate: { type: 'string', default: '200' },
      faults: { type: 'string', default: FAULTS.join(',') },
      seed: { type: 'string', default: '1' },
      'backfill-days': { type: 'string', default: '5' },
      'min-wait': { type: 'string', default: '3' },
      'max-wait': { type: 'string', default: '8' },
      'recovery-timeout': { type: 'string', default: '180' },
      flood: { type: 'string', default: '10000' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const positive = (name: string, text: string) => {
    const value = Number(text);
    if (!Number.isFinite(value) || value <= 0) {
      throw new Error(`--${name} must be a positive number, not "${text}"\n${USAGE}`);
    }
    return value;
  };
  const minWait = positive('min-wait', values['min-wait']);
  const maxWait = positive('max-wait', values['max-wait']);
  if (maxWait < minWait) throw new Error(`--max-wait must be at least --min-wait\n${USAGE}`);
  return {
    faults: parseFaults(values.faults),
    rounds: Math.floor(positive('rounds', values.rounds)),
    ratePerSec: positive('rate', values.rate),
    seed: Math.floor(positive('seed', values.seed)),
    backfillDays: Math.floor(positive('backfill-days', values['backfill-days'])),
    minWaitMs: minWait * 1000,
    maxWaitMs: maxWait * 1000,
    recoveryTimeoutMs: positive('recovery-timeout', values['recovery-timeout']) * 1000,
    floodRows: values.flood === '0' ? 0 : Math.floor(positive('flood', values.flood)),
  };
}

const config = loadConfig();
const logger = createLogger({ level: 'info', fields: { service: 'tidemark-chaos' } });
const result = await runChaos(config, options(process.argv.slice(2)), logger);
const table = renderChaosTable(result.injections, result.checks, result.flood);
process.stdout.write(`\n${table}\n`);
const out = join(REPO_ROOT, 'bench/results/chaos.json');
mkdirSync(join(REPO_ROOT, 'bench/results'), { recursive: true });
writeFileSync(out, `${JSON.stringify({ ...result, table }, null, 2)}\n`);
process.stdout.write(`results: bench/results/chaos.json\n`);
process.exit(result.passed ? 0 : 1);
