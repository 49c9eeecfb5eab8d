/**
 * Temporal's workflow sandbox evaluates every bundled module afresh for each workflow, so a zod schema
 * built at a module's top level is built again for every task, used or not. Domain modules therefore
 * export their schemas as `z.lazy(...)` (built on first parse) and keep parts that several schemas
 * share, or that another schema extends, behind `once`.
 */

/** `build`'s result, built on the first call and the same value on every later one. */
export function once<T>(build: () => T): () => T {
  let built: { value: T } | undefined;
  return () => (built ??= { value: build() }).value;
}
