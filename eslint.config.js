// Lint rules for every package. Workflow files run in Temporal's deterministic sandbox, so they
// may not import Node built-ins or I/O libraries, and may not leave promises floating; the
// stream's pure decisions may not import them either.
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import tseslint from 'typescript-eslint';

const IO_MODULES = [
  'fs',
  'fs/promises',
  'net',
  'http',
  'https',
  'child_process',
  'crypto',
  'os',
  'dns',
  'worker_threads',
];

export default tseslint.config(
  { ignores: ['**/node_modules/**', '**/dist/**', '**/.turbo/**', 'bench/results/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
      'no-console': 'error',
    },
  },
  {
    files: ['workflows/src/workflows/**/*.ts'],
    ignores: ['**/*.test.ts'],
    languageOptions: { parserOptions: { projectService: true } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      'no-restricted-imports': [
        'error',
        {
          paths: [
            ...IO_MODULES.flatMap((name) => [name, `node:${name}`]).map((name) => ({
              name,
              message: 'workflow code must be deterministic: do I/O in an activity',
            })),
            ...[
              'pg',
              'knex',
              'kafkajs',
              '@temporalio/activity',
              '@temporalio/client',
              '@temporalio/worker',
            ].map((name) => ({
              name,
              message: 'workflow code must be deterministic: do I/O in an activity',
            })),
          ],
          patterns: [
            { group: ['@tidemark/runtime'], message: 'workflow code may not import I/O helpers' },
          ],
        },
      ],
    },
  },
  {
    // The stream's pure decisions (docs/stream-design.md): the windowing operators and planner,
    // the emission rules, shards, the session queue's encoding, where a partition is read next
    // and what a heartbeat says take data and return data.
    // Types of the I/O libraries may be named; their code may not run here.
    files: [
      'services/stream/src/windowing/**/*.ts',
      'services/stream/src/emission.ts',
      'services/stream/src/shards.ts',
      'services/stream/src/session-queue.ts',
      'services/stream/src/next-read.ts',
      'services/stream/src/heartbeats.ts',
    ],
    ignores: ['**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            ...IO_MODULES.flatMap((name) => [name, `node:${name}`]).map((name) => ({
              name,
              message: "the stream's decisions are pure: do I/O in the stores around them",
            })),
            ...['pg', 'pg-copy-streams', 'knex', 'kafkajs'].map((name) => ({
              name,
              allowTypeImports: true,
              message: "the stream's decisions are pure: do I/O in the stores around them",
            })),
            {
              name: '@tidemark/runtime',
              allowImportNames: ['TidemarkError'],
              message: "the stream's decisions are pure: only TidemarkError may come from runtime",
            },
          ],
        },
      ],
    },
  },
  prettier,
);
