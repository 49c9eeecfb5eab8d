/**
 * Code an interpreter reads from its stdin: what a pipeline feeds it (`curl ... | sh` is
 * download-and-execute; `echo 'ls' | sh` is a literal script, judged) and what a here-doc or
 * here-string gives it (redirects.ts). Whatever cannot be judged asks.
 */
import path from 'node:path';
import { SHELL_NAMES } from '../programs/registry';
import type { PartRec, Sink } from './state';
import type { WalkHost } from './walk-host';

/** After a pipeline's stages are walked (`ranges` of w.parts, one per stage): judges what each interpreter stage runs. */
export function judgePipedCode(w: WalkHost, ranges: readonly [number, number][]) {
  for (let i = 1; i < ranges.length; i++) {
    const [s, e] = ranges[i]!;
    for (const rec of w.parts.slice(s, e)) {
      if (!rec.stdinCode || rec.stdinHandled || rec.substDepth !== w.substDepth) continue;
      rec.stdinHandled = true;
      const upstream = w.parts.slice(ranges[0]![0], s);
      const fetcher = upstream.find((p) => p.fetcher);
      if (fetcher) {
        rec.sink.deny.push(`${fetcher.part.program} | ${rec.stdinCode}: runs code downloaded from the network (download-and-execute)`);
        continue;
      }
      const prev = w.parts.slice(ranges[i - 1]![0], ranges[i - 1]![1]).filter((p) => p.substDepth === w.substDepth);
      const only = prev.length === 1 ? prev[0]! : null;
      const literal = only ? literalScript(only) : null;
      if (literal !== null && only && SHELL_NAMES.has(path.posix.basename(rec.stdinCode))) {
        const v = w.script(literal, `${only.part.program} | ${rec.stdinCode}`, rec.sink, false);
        if (!v.readOnly && !v.denied) rec.sink.ask.push(`${rec.stdinCode} runs a piped-in script that is not read-only`);
      } else {
        rec.sink.findings.push({ risk: 'unknown', reason: `${rec.stdinCode} runs code piped in from another command` });
        rec.sink.ask.push(`${rec.stdinCode} runs commands piped in from ${prev.map((p) => p.part.program ?? '?').join(', ') || 'another command'}`);
      }
    }
  }
}

/** The script a single upstream part feeds: `echo 'ls'`, `printf ...` or `cat <<'EOF'`; null when it is not a literal. */
function literalScript(only: PartRec): string | null {
  // echo 'ls' | sh and cat <<'EOF' | sh feed a literal script we can analyse.
  if ((only.part.program === 'echo' || only.part.program === 'printf') && !only.part.dynamic) {
    return only.args
      .slice(1)
      .map((a) => a.value!)
      .filter((v, k) => !(k === 0 && /^-[neE]+$/.test(v)))
      .join(' ');
  }
  return only.part.program === 'cat' && only.args.length === 1 && only.stdinText !== null ? only.stdinText : null;
}

/** A here-doc or here-string read by an interpreter: a shell runs it as a script, which is judged. */
export function stdinScript(w: WalkHost, rec: PartRec, body: string, how: string, sink: Sink) {
  const interp = path.posix.basename(rec.stdinCode ?? '');
  if (!SHELL_NAMES.has(interp) && interp !== 'source' && interp !== '.') {
    sink.findings.push({ risk: 'unknown', reason: `${interp} runs inline code from a ${how}` });
    sink.ask.push(`${interp} runs inline code from a ${how} that the analyser cannot judge`);
    return;
  }
  const v = w.script(body, `${interp} ${how}`, sink, false);
  if (!v.readOnly && !v.denied) sink.ask.push(`${interp} runs a ${how} script that is not read-only`);
}
