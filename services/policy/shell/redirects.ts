/**
 * Redirections: `> file` is a write (checked like any other), `< file` a read (checked for secrets),
 * and a here-doc, here-string or `< file` feeding an interpreter is the code it runs, judged as a
 * script when it is a literal and denied when it was downloaded.
 */
import { PartJudge } from './judge';
import type { SNode } from './parser';
import type { PartRec, Sink } from './state';
import { stdinScript } from './stdin-code';
import type { WalkHost } from './walk-host';

/** Judges one redirection of the parts in `owners`, into `sink`. */
export function redirect(w: WalkHost, r: SNode, owners: PartRec[], sink: Sink) {
  const op = r.children.find((c) => !c.named)?.type ?? '?';
  const fd = r.children.find((c) => c.type === 'file_descriptor');
  const label = (fd ? w.text(fd) : '') + op;
  const interp = owners.find((o) => o.stdinCode && !o.stdinHandled);
  const note = (target: string | null) => owners.forEach((o) => o.part.redirections.push({ op: label, target }));
  if (r.type === 'heredoc_redirect') {
    note(null);
    const bodyNode = r.children.find((c) => c.type === 'heredoc_body');
    const startNode = r.children.find((c) => c.type === 'heredoc_start');
    const quotedDelim = startNode ? /['"\\]/.test(w.text(startNode)) : true;
    const literalBody = bodyNode && (quotedDelim || !bodyNode.children.some((c) => c.named && c.type !== 'heredoc_content')) ? w.text(bodyNode) : null;
    owners.forEach((o) => (o.stdinText = literalBody));
    if (interp) {
      interp.stdinHandled = true;
      const body = bodyNode ? w.text(bodyNode) : '';
      if (bodyNode && w.fetchesIn(bodyNode)) return void sink.deny.push(`${interp.stdinCode} runs a here-doc built from downloaded content (download-and-execute)`);
      stdinScript(w, interp, body, quotedDelim ? 'here-doc' : 'here-doc (with expansions)', sink);
    }
    return;
  }
  if (r.type === 'herestring_redirect') {
    const words = r.children.filter((c) => c.named && c.type !== 'file_descriptor');
    const arg = w.reader.word(words);
    note(arg.value);
    owners.forEach((o) => (o.stdinText = arg.value));
    if (interp) {
      interp.stdinHandled = true;
      if (arg.fetches) return void sink.deny.push(`${interp.stdinCode} <<< runs downloaded content (download-and-execute)`);
      if (arg.value === null) return void sink.ask.push(`${interp.stdinCode} runs a here-string computed at run time`);
      stdinScript(w, interp, arg.value, 'here-string', sink);
    }
    return;
  }
  const destGroup = w.reader.groupWords(r.children.filter((c) => c.field === 'destination'))[0];
  const dest = destGroup?.[0];
  if (!destGroup || !dest) return note(null);
  const arg = w.reader.word(destGroup);
  note(arg.value);
  if ((op === '>&' || op === '<&' || op === '>&-' || op === '<&-') && (dest.type === 'number' || arg.value === '-' || /^\d+-?$/.test(arg.value ?? ''))) return;
  if (op === '<' || op === '<&') {
    if (dest.type !== 'process_substitution') w.paths.checkCredentialArg(arg, w.scope.cwd, sink, true);
    if (/^\/dev\/(tcp|udp)\//.test(arg.value ?? arg.guess?.[0] ?? '')) {
      owners.forEach((o) => (o.fetcher = true));
      sink.findings.push({ risk: 'network', reason: `redirect < ${arg.text} reads from a network socket` });
      sink.ask.push(`reads from a raw network socket (${arg.text})`);
    }
    if (interp) {
      interp.stdinHandled = true;
      if (arg.fetches) return void sink.deny.push(`${interp.stdinCode} < <(...) runs downloaded content (download-and-execute)`);
      if (new PartJudge(w, interp, sink, true, w.scope.cwd).isDownloaded(arg))
        return void sink.deny.push(`${interp.stdinCode} < ${arg.text} runs a file this command downloaded (download-and-execute)`);
      sink.ask.push(`${interp.stdinCode} runs the commands in ${arg.value ?? arg.text}`);
    }
    return;
  }
  if (dest.type === 'process_substitution') return; // >(cmd): cmd was judged as its own part
  const judge = new PartJudge(w, owners[0] ?? null, sink, false, w.scope.cwd);
  judge.write(arg, `redirect ${label} writes`);
  // `curl URL > x.sh` saves a download as surely as `curl -o x.sh`.
  if (owners.some((o) => o.fetcher) && !fd) judge.downloaded(arg);
}

/** Whether a redirection replaces the command's stdin. */
export function redirectsStdin(w: WalkHost, r: SNode): boolean {
  if (r.type === 'heredoc_redirect' || r.type === 'herestring_redirect') return true;
  const op = r.children.find((c) => !c.named)?.type ?? '';
  const fd = r.children.find((c) => c.type === 'file_descriptor');
  return r.type === 'file_redirect' && op.startsWith('<') && (!fd || w.text(fd) === '0');
}
