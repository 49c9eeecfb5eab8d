/**
 * Build tools, test runners and linters: they run project code and may write build, cache or
 * report files in the workspace; a formatter asked only to check stays read-only.
 */
import { VERSION_FLAGS } from '../shell/args';
import type { ProgramFamily, ShellRule } from '../shell/rule';
import { ex, RO } from './example';

/** Build tools, test runners, linters: they run project code and may write build/cache files. */
const PROJECT_TOOLS = [
  'make',
  'gmake',
  'cmake',
  'ninja',
  'meson',
  'bazel',
  'bazelisk',
  'just',
  'task',
  'mvn',
  'gradle',
  'sbt',
  'ant',
  'dotnet',
  'swift',
  'xcodebuild',
  'tsc',
  'pytest',
  'py.test',
  'jest',
  'vitest',
  'mocha',
  'ava',
  'tap',
  'karma',
  'playwright',
  'cypress',
  'tox',
  'nox',
  'phpunit',
  'rspec',
  'rake',
  'eslint',
  'tslint',
  'stylelint',
  'biome',
  'mypy',
  'pyright',
  'flake8',
  'pylint',
  'ruff',
  'black',
  'isort',
  'prettier',
  'rubocop',
  'golangci-lint',
  'shellcheck',
  'hadolint',
  'webpack',
  'vite',
  'esbuild',
  'rollup',
  'parcel',
  'turbo',
  'nx',
  'lerna',
  'next',
  'nuxt',
  'astro',
  'tsup',
  'swc',
  'babel',
  'tsx',
  'ts-node',
  'jupyter',
  'coverage',
  'nyc',
  'c8',
  'gcc',
  'g++',
  'cc',
  'c++',
  'clang',
  'clang++',
  'rustc',
  'javac',
  'ctest',
  'zig',
  'elixir',
  'mix',
  'pre-commit',
  'lefthook',
  'husky',
  'changeset',
  'semantic-release',
  'storybook',
  'docusaurus',
  'mkdocs',
  'sphinx-build',
  'hugo',
  'jekyll',
];
const CHECK_ONLY_FLAGS = new Set(['--check', '-c', '--list-different', '-l', '--diff']);

const PROJECT_TOOL_RULE: ShellRule = {
  programs: PROJECT_TOOLS,
  judge(argv, j) {
    const name = argv[0]!.value!;
    const rest = argv.slice(1).map((a) => a.value);
    if (rest.length === 1 && VERSION_FLAGS.has(rest[0] ?? '')) return j.risk('read-only', `${name} ${rest[0]} prints its version`);
    if (name === 'shellcheck' || name === 'hadolint') return j.risk('read-only', `${name} only lints`);
    const checkOnly = rest.some((v) => v !== null && CHECK_ONLY_FLAGS.has(v)) && !rest.some((v) => v === null || /^(--write|-w|--fix|--fix-only|--in-place|-i)$/.test(v));
    if (checkOnly && ['prettier', 'black', 'isort', 'biome', 'stylelint'].includes(name)) return j.risk('read-only', `${name} ${rest.join(' ')} only checks`);
    j.risk('workspace-write', `${name} runs project code or tooling (may write build, cache or report files)`);
  },
  examples: [
    ex('make test', { risk: 'workspace-write', readOnly: false, ask: false }),
    ex('pytest -q tests/', { risk: 'workspace-write' }),
    ex('npx tsc --noEmit', { risk: 'package-install' }),
    ex('tsc --noEmit', { risk: 'workspace-write' }),
    ex('prettier --check src', RO),
    ex('eslint --fix .', { risk: 'workspace-write' }),
    ex('gcc --version', RO),
  ],
};

export const buildTools: ProgramFamily = {
  name: 'build-tools',
  rules: [PROJECT_TOOL_RULE],
};
