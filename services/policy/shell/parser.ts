/**
 * The bash parser: tree-sitter-bash (WASM), loaded once per process, and a plain copy of its tree.
 * The walker reads only the plain copy, which is fast to access and needs no freeing.
 */
import { createRequire } from 'node:module';
import { Language, Parser, type Tree } from 'web-tree-sitter';

let parserPromise: Promise<Parser> | null = null;

/** The shared parser; rejects when the WASM grammar cannot be loaded (a later call retries). */
export function getParser(): Promise<Parser> {
  parserPromise ??= (async () => {
    const require = createRequire(import.meta.url);
    await Parser.init();
    const language = await Language.load(require.resolve('tree-sitter-bash/tree-sitter-bash.wasm'));
    const parser = new Parser();
    parser.setLanguage(language);
    return parser;
  })().catch((err: unknown) => {
    parserPromise = null; // let a later call retry
    throw err;
  });
  return parserPromise;
}

/** Plain copy of the syntax tree: WASM node objects are slow to access and must be freed. */
export interface SNode {
  type: string;
  named: boolean;
  field: string | null;
  start: number;
  end: number;
  children: SNode[];
}

export interface PlainTree {
  root: SNode;
  errors: boolean;
  depth: number;
}

/** Copies a tree; `errors` when it holds ERROR or MISSING nodes, `depth` its nesting. */
export function toPlain(tree: Tree): PlainTree {
  const cursor = tree.walk();
  let errors = false;
  const make = (): SNode => {
    if (cursor.nodeType === 'ERROR' || cursor.nodeIsMissing) errors = true;
    return { type: cursor.nodeType, named: cursor.nodeIsNamed, field: cursor.currentFieldName, start: cursor.startIndex, end: cursor.endIndex, children: [] };
  };
  const root = make();
  const stack: SNode[] = [root];
  let depth = 1;
  // Iterative pre-order walk: deeply nested input must not overflow the JS stack.
  try {
    for (;;) {
      if (cursor.gotoFirstChild()) {
        const n = make();
        stack[stack.length - 1]!.children.push(n);
        stack.push(n);
        depth = Math.max(depth, stack.length);
        continue;
      }
      for (;;) {
        stack.pop();
        if (cursor.gotoNextSibling()) {
          const n = make();
          stack[stack.length - 1]!.children.push(n);
          stack.push(n);
          break;
        }
        if (!cursor.gotoParent()) return { root, errors, depth };
      }
    }
  } finally {
    cursor.delete();
  }
}
