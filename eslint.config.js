/**
 * ESLint: a few rules with type information that catch real bugs here, not style (Prettier owns
 * style; dependency-cruiser owns the layer map, see .dependency-cruiser.js).
 */
import { defineConfig, globalIgnores } from 'eslint/config';
import tseslint from 'typescript-eslint';

const unusedVars = ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_', ignoreRestSiblings: true }];

export default defineConfig([
  globalIgnores(['node_modules/', 'scratch/', 'coverage/', 'dist/', '.agent/', '.tools/', 'workspaces/']),
  {
    files: ['**/*.ts'],
    languageOptions: {
      parser: tseslint.parser,
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { '@typescript-eslint': tseslint.plugin },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      // A promise nobody awaits: in a workflow, a forgotten `await` on an activity lets the code run
      // on without its result; elsewhere a rejection becomes an unhandled one. `void p` says "on purpose".
      '@typescript-eslint/no-floating-promises': 'error',
      // An async function where a void callback is expected (an event handler, forEach): its rejection goes nowhere.
      '@typescript-eslint/no-misused-promises': 'error',
      // `await` on a value that is not a promise is a sign the call was meant to be something else.
      '@typescript-eslint/await-thenable': 'error',
      // `return promise` inside try/catch/finally skips the catch and runs the finally too early.
      '@typescript-eslint/return-await': ['error', 'error-handling-correctness-only'],
      // Only Error objects carry a stack and the `message` the CLI prints for people.
      '@typescript-eslint/only-throw-error': 'error',
      '@typescript-eslint/no-unused-vars': unusedVars,
    },
  },
  {
    // services/config.ts parses the environment once and injects it; a second reader bypasses validation and redaction.
    files: ['{domain,workflows,activities,services,workers,client,servers,cli}/**/*.ts'],
    ignores: ['services/config.ts'],
    rules: {
      'no-restricted-properties': ['error', { object: 'process', property: 'env', message: 'read the environment in services/config.ts and pass the parsed value in' }],
    },
  },
  {
    files: ['**/*.{js,mjs,cjs}'],
    rules: { 'no-unused-vars': unusedVars },
  },
]);
