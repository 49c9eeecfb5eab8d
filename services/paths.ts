/**
 * Path containment, the one definition every confinement check uses. Containment is decided with
 * path.relative, never startsWith, which would let "/work/app-evil" pass for "/work/app".
 */
import path from 'node:path';

/** Whether `candidate` is `root` itself or lies under it (purely lexical: symlinks are not followed). */
export function isInside(root: string, candidate: string): boolean {
  const rel = path.relative(root, candidate);
  // "..env" is a legal name inside; only ".." itself or "../..." leaves the root.
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel));
}
