// @ts-check
import { builtinModules } from 'node:module';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// Workflow code runs in Temporal's deterministic sandbox: no Node built-ins, no I/O libraries, and
// activities are imported as types only. Pure domain modules are imported by workflows, so the same rule
// holds for them.
const forbiddenInSandbox = [
  ...builtinModules,
  ...builtinModules.map((m) => `node:${m}`),
  'knex',
  'pg',
  'nodemailer',
  'pino',
  'express',
];

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: { allowDefaultProject: ['*.js', '*.cjs'] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'off',
    },
  },
  {
    files: ['workflows/**/*.ts', 'domain/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: forbiddenInSandbox.map((name) => ({
            name,
            message: 'Workflow and domain code must be deterministic: no Node built-ins or I/O libraries.',
          })),
          patterns: [
            {
              group: ['**/activities/*', '**/activities', '**/db/*', '**/api/*', '**/local-stack/*', '**/platform/*'],
              allowTypeImports: true,
              message: 'Workflows import activities (and other I/O code) as types only.',
            },
          ],
        },
      ],
      'no-restricted-globals': [
        'error',
        { name: 'process', message: 'No process access in deterministic code.' },
        { name: 'setTimeout', message: 'Use sleep()/condition() from @temporalio/workflow.' },
        { name: 'setInterval', message: 'Use sleep()/condition() from @temporalio/workflow.' },
      ],
    },
  },
  {
    // vitest's asymmetric matchers (expect.any, expect.stringContaining, …) are typed `any`.
    files: ['test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
    },
  },
  {
    files: ['**/*.js', '**/*.cjs'],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    // Tool configuration in CommonJS (dependency-cruiser reads .cjs).
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { module: 'writable', require: 'readonly' } },
  },
);
