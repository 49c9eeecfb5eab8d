/**
 * Secret redaction for tool output: runs on output while it streams, before the
 * model, the workflow history or the logs see it. Two kinds of secret are caught:
 *
 * - literal secrets we know the value of (secret-looking environment variables, configured
 *   secrets), also in their base64 (standard and URL-safe, padded or not, at every byte alignment
 *   inside a longer blob), hex, URL-encoded and JSON-escaped forms;
 * - tokens of well-known formats (Anthropic, OpenAI, GitHub, GitLab, Slack, AWS, Google, Stripe,
 *   JWTs, PEM private keys) and credentials in assignments, URLs and Authorization headers.
 *
 * Every match is found from every position it can start at (not just after the previous match),
 * and overlapping matches are merged. That makes the result a function of bounded windows of the
 * text, which is what lets the streaming redactor emit early and still produce exactly what
 * `redact(whole)` would.
 */

export interface RedactorOptions {
  /** Values of variables whose name looks secret become literal secrets (at least 8 characters). */
  env?: Record<string, string | undefined>;
  /** Extra literal secrets; shorter than 8 characters (they would hit ordinary words) or longer than 8192 are ignored. */
  secrets?: string[];
}

export interface RedactorStream {
  /** Returns the part of the output seen so far that is safe to emit; holds back a possible partial secret. */
  push(chunk: string): string;
  /** Flushes what was held back. The stream can be reused afterwards. */
  end(): string;
}

export interface Redactor {
  /** Replaces each secret with `[REDACTED:<kind>]`. Never throws. */
  redact(text: string): string;
  /** Streaming form: the concatenation of every push and end equals redact(all chunks joined). */
  stream(): RedactorStream;
  /** How many distinct literal secrets (not counting their encodings) are being looked for. */
  readonly literalCount: number;
}

const MIN_LITERAL_LENGTH = 8;
/** Longer values (certificate bundles, whole config files) would make the search pattern huge; token rules still apply to them. */
const MAX_LITERAL_LENGTH = 8_192;
/** Already-emitted characters kept before the pending text: more than the longest look-behind (a line start up to 81 back). */
const CONTEXT_CHARS = 96;
/** Always held back by a stream: longer than any rule's trigger, so a trigger split by a chunk boundary is seen whole. */
const TRIGGER_MARGIN = 128;
/** How far past its maximum length a rule looks (trailing look-ahead, the character after a value). */
const LOOKAHEAD = 8;

// ---------------------------------------------------------------------------------------------
// Which environment variables are secret
// ---------------------------------------------------------------------------------------------

/** Whole `_`-separated words that mark a variable as secret (AUTH, not AUTHOR; KEY, not KEYBOARD). */
const SECRET_NAME_WORD =
  /(?:^|_)(?:KEYS?|APIKEY|TOKENS?|SECRETS?|PASS|PASSWORD|PASSWD|PASSPHRASE|PWD|PIN|CREDENTIALS?|CREDS?|AUTH|OAUTH|PRIVATE|SESSION|COOKIE|SALT|SIGNATURE|SIGNING|CERT|DSN)(?:_|$)/;
/** Fragments secret wherever they occur in a name (GITHUBTOKEN, DB_PASSWORD_FILE, MYSQL_ROOT_PASSWORD). */
const SECRET_NAME_PART = /TOKEN|SECRET|PASSW|CREDENTIAL|PRIVATE_?KEY|API_?KEY|ACCESS_?KEY|CONNECTION_?STRING|DATABASE_?UR[LI]/;
/** AWS_* is secret except for these, which only select a region, profile or output format. */
const AWS_NOT_SECRET = new Set([
  'AWS_REGION',
  'AWS_DEFAULT_REGION',
  'AWS_PROFILE',
  'AWS_DEFAULT_PROFILE',
  'AWS_DEFAULT_OUTPUT',
  'AWS_PAGER',
  'AWS_SDK_LOAD_CONFIG',
  'AWS_CONFIG_FILE',
  'AWS_SHARED_CREDENTIALS_FILE',
]);
/** Names that contain a secret-looking word but hold a directory. */
const NOT_SECRET_NAMES = new Set(['PWD', 'OLDPWD']);

/** True when an environment variable's name suggests its value is a secret. */
export function isSecretEnvName(name: string): boolean {
  const upper = name.toUpperCase();
  if (NOT_SECRET_NAMES.has(upper)) return false;
  if (upper.startsWith('AWS_')) return !AWS_NOT_SECRET.has(upper);
  return SECRET_NAME_WORD.test(upper) || SECRET_NAME_PART.test(upper);
}

/** What a child process may see. LC_* is matched as a prefix. */
const CHILD_ENV_NAMES = ['PATH', 'HOME', 'LANG', 'TERM', 'TZ', 'USER', 'SHELL', 'TMPDIR'];

/**
 * The environment for a child process: PATH, HOME, LANG, LC_*, TERM, TZ, USER, SHELL, TMPDIR and
 * the `extra` names, minus anything whose name looks secret (even when listed in `extra`).
 */
export function allowListedEnv(env: Record<string, string | undefined>, extra: string[] = []): Record<string, string> {
  const allowed = new Set([...CHILD_ENV_NAMES, ...extra]);
  const result: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined) continue;
    if (!allowed.has(name) && !name.startsWith('LC_')) continue;
    if (isSecretEnvName(name)) continue;
    result[name] = value;
  }
  return result;
}

/** A URL with a password in its user info: `scheme://user:password@host`. */
const URL_WITH_PASSWORD = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^\s:/@]*:([^\s@/]+)@/;

/**
 * Values that are configuration rather than secrets even under a secret-looking name
 * (SSH_AUTH_SOCK=/tmp/..., SESSION_DRIVER=database, AUTH_URL=https://...); redacting them would
 * blank out ordinary words and paths everywhere.
 */
function isPlausibleSecretValue(value: string): boolean {
  if (value.length < MIN_LITERAL_LENGTH || value.length > MAX_LITERAL_LENGTH) return false;
  if (/^(?:true|false|yes|no|on|off|null|none|undefined|enabled|disabled)$/i.test(value)) return false;
  if (/^[\d\s.,:+-]+$/.test(value)) return false; // numbers, ports, dates, versions
  if (/^(?:~?\/|\.{1,2}\/|[A-Za-z]:\\)/.test(value)) return false; // paths
  if (value.length < 16 && /^[A-Za-z]+(?:[-_. ][A-Za-z]+)*$/.test(value)) return false; // a word or two
  if (/^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^\s@?]*$/.test(value)) return false; // a URL without credentials or query
  if (/^(.)\1*$/s.test(value)) return false;
  return true;
}

/** Literal secrets from the environment, keyed by value; the first variable holding a value names it. */
function literalsFromEnv(env: Record<string, string | undefined>): Map<string, string> {
  const literals = new Map<string, string>();
  const add = (value: string, kind: string) => {
    if (isPlausibleSecretValue(value) && !literals.has(value)) literals.set(value, kind);
  };
  for (const [name, value] of Object.entries(env)) {
    if (!value) continue;
    const kind = `env:${name}`;
    const password = URL_WITH_PASSWORD.exec(value)?.[1];
    // A URL carrying a password is a secret whatever the variable is called (HTTP_PROXY, REDIS_URL...).
    if (isSecretEnvName(name) || password !== undefined) {
      add(value, kind);
      if (value.trim() !== value) add(value.trim(), kind);
    }
    if (password !== undefined) {
      add(password, kind);
      try {
        add(decodeURIComponent(password), kind);
      } catch {
        /* not percent-encoded after all */
      }
    }
  }
  return literals;
}

// ---------------------------------------------------------------------------------------------
// Encoded forms of a literal secret
// ---------------------------------------------------------------------------------------------

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const toUrlSafe = (b64: string) => b64.replace(/\+/g, '-').replace(/\//g, '_');

/**
 * The base64 text that a secret produces inside any base64 blob. Base64 maps 3 bytes to 4
 * characters, so where the secret starts within a 3-byte group (0, 1 or 2 bytes after a group
 * boundary) changes every character. For each alignment we encode the secret after that many
 * placeholder bytes and keep only the characters made purely of the secret's bits: the leading
 * characters mix in the preceding bytes and the trailing one mixes in the following bytes. The
 * forms with the trailing characters and padding catch the secret at the end of a blob.
 */
function base64Forms(bytes: Buffer): string[] {
  const forms: string[] = [];
  for (let offset = 0; offset < 3; offset++) {
    const aligned = Buffer.concat([Buffer.alloc(offset), bytes]);
    const encoded = aligned.toString('base64');
    const first = Math.ceil((8 * offset) / 6);
    const stableEnd = Math.floor((8 * aligned.length) / 6);
    const atEnd = encoded.slice(first);
    for (const form of [encoded.slice(first, stableEnd), atEnd, atEnd.replace(/=+$/, '')]) {
      forms.push(form, toUrlSafe(form));
    }
  }
  return forms;
}

/** A literal secret's form as a regular-expression source, with the longest text it can match. */
interface LiteralForm {
  source: string;
  maxLength: number;
}

const exact = (text: string): LiteralForm => ({ source: escapeRegExp(text), maxLength: text.length });

/**
 * The secret percent-encoded by any encoder: encoders disagree on which characters to escape
 * (`encodeURIComponent` keeps `!'()*~`, forms and Python's `quote` escape some of them, forms
 * write a space as `+`) and on hex case, so every character that is not always left alone
 * may appear either raw or escaped. Null when no encoder would change the secret.
 */
function percentEncodedForm(secret: string): LiteralForm | null {
  if (/^[A-Za-z0-9_.-]*$/.test(secret)) return null;
  let source = '';
  let maxLength = 0;
  for (const char of secret) {
    if (/[A-Za-z0-9_.-]/.test(char)) {
      source += char;
      maxLength += 1;
      continue;
    }
    const bytes = [...Buffer.from(char, 'utf8')];
    // Either hex case: %2f and %2F.
    const hexDigit = (d: string) => (/[a-f]/.test(d) ? `[${d}${d.toUpperCase()}]` : d);
    const escaped = bytes.map((b) => `%${[...b.toString(16).padStart(2, '0')].map(hexDigit).join('')}`).join('');
    source += `(?:${escapeRegExp(char)}|${escaped}${char === ' ' ? '|\\+' : ''})`;
    maxLength += Math.max(char.length, 3 * bytes.length);
  }
  return { source, maxLength };
}

/** The exact texts a secret may appear as: itself, hex, base64 at every alignment, JSON-escaped. */
function exactForms(secret: string): string[] {
  const bytes = Buffer.from(secret, 'utf8');
  const hex = bytes.toString('hex');
  return [...new Set([secret, hex, hex.toUpperCase(), ...base64Forms(bytes), JSON.stringify(secret).slice(1, -1)])];
}

/** The secret a percent-encoded match stands for (the exact forms are looked up directly). */
function percentDecoded(text: string): string[] {
  const decoded: string[] = [];
  for (const candidate of [text, text.replace(/\+/g, ' ')]) {
    try {
      decoded.push(decodeURIComponent(candidate));
    } catch {
      /* not a valid encoding of UTF-8 text */
    }
  }
  return decoded;
}

// ---------------------------------------------------------------------------------------------
// Token formats and credential assignments
// ---------------------------------------------------------------------------------------------

interface PatternRule {
  kind: string;
  /**
   * Global, with indices (`d`). The secret is the first capture group that took part in the
   * match, or the whole match when there is none. Quantifiers are bounded so that `maxLength`
   * holds: a match's outcome depends only on `maxLength + LOOKAHEAD` characters from its start.
   */
  pattern: RegExp;
  /** Matches wherever `pattern` can start, within TRIGGER_MARGIN characters: a stream holds text back from here. */
  trigger: RegExp;
  maxLength: number;
  /** Rejects a candidate value (placeholders, code); `next` is the character after the value. */
  accept?: (value: string, next: string, quoted: boolean) => boolean;
  /**
   * True when a match found now cannot change however the text continues, so a stream need not
   * wait for `maxLength` more characters (a PEM block whose END line has arrived).
   */
  settled?: (match: string, matchEnd: number, textLength: number) => boolean;
}

const PEM_BEGIN = String.raw`-----BEGIN (?:[A-Z0-9]{1,12} ){0,4}PRIVATE KEY(?: BLOCK)?-----`;
const PEM_END = String.raw`-----END (?:[A-Z0-9]{1,12} ){0,4}PRIVATE KEY(?: BLOCK)?-----`;
/** Keys of a credential assignment; any prefix is allowed (DB_PASSWORD, PGPASSWORD, client_secret, apiKey). */
const ASSIGNMENT_KEY = String.raw`(?:pass(?:word|wd|phrase)|secret(?:[_-]?(?:access[_-]?)?key(?:[_-]?base)?)?|api[_-]?key|private[_-]?key|(?:access|auth|refresh|session|bearer|private|api|id)[_-]?token)`;
/** A value: quoted (also inside an escaped JSON string) or bare up to whitespace or a delimiter. */
const ASSIGNMENT_VALUE = String.raw`(?:\\?"([^"\\\r\n]{1,256})\\?"|\\?'([^'\\\r\n]{1,256})\\?'|([^\s"'\\&<>;,]{1,256}))`;
const QUOTED_VALUE = String.raw`(?:\\?"([^"\\\r\n]{1,256})\\?"|\\?'([^'\\\r\n]{1,256})\\?')`;
const BARE_VALUE = String.raw`([^\s"'\\&<>;,]{1,256})`;

/** Words that, as a bare value, are a type, a constant or a keyword rather than a secret. */
const CODE_WORDS =
  /^(?:true|false|null|nil|none|undefined|string|str|number|int|integer|bool|boolean|bytes|any|object|optional|required|self|this|env|secret|password|passwd|token|await|new|yield|typeof|function|lambda|async|require|import|static|const|let|var|return|not)$/i;

/** Rejects placeholders (`${DB_PASSWORD}`, `<password>`, `***`, `[REDACTED:…]`) and, for bare values, code. */
function acceptValue(value: string, next: string, quoted: boolean): boolean {
  if (value.length < 3) return false;
  if (/^(?:\$|%\(|\{\{|<|\[REDACTED|\*{3}|x{3,}$|\.{3}|…)/i.test(value)) return false;
  if (quoted) return !CODE_WORDS.test(value);
  // Bare values in source code are expressions: `user.password`, `getPass()`, `os.environ[...]`,
  // `password=password)`, `password = newPassword;`. A secret in code is a quoted literal, which
  // is still redacted.
  const core = value.replace(/[)\]}:]+$/, '');
  if (CODE_WORDS.test(core)) return false;
  if (/^[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)+$/.test(core)) return false;
  if (/^[A-Za-z_$][\w$.]*[([]/.test(core)) return false;
  if (/^[A-Za-z_$][\w$]*$/.test(core) && (core !== value || /[;,)]/.test(next) || /pass|secret|token|key/i.test(core))) return false;
  return !value.startsWith('-');
}

function rule(
  kind: string,
  pattern: string,
  trigger: string,
  maxLength: number,
  extra: { flags?: string; accept?: PatternRule['accept']; settled?: PatternRule['settled'] } = {},
): PatternRule {
  const flags = extra.flags ?? '';
  return {
    kind,
    pattern: new RegExp(pattern, `gd${flags}`),
    trigger: new RegExp(trigger, `g${flags}`),
    maxLength,
    accept: extra.accept,
    settled: extra.settled,
  };
}

const TOKEN_START = String.raw`(?<![A-Za-z0-9_-])`;

/** In priority order: when overlapping matches start at the same place and are as long, the first rule names it. */
const RULES: PatternRule[] = [
  // The whole block up to its END line; or, when the output was cut off before it, the base64 body.
  // The block never spans another BEGIN, so text full of BEGIN lines costs linear time.
  rule('private-key', String.raw`${PEM_BEGIN}(?:(?:(?!-----BEGIN )[\s\S]){1,16384}?${PEM_END}|(?:(?:\r?\n|\\n)[A-Za-z0-9+/=]{1,100}){0,400})`, PEM_BEGIN, 41_300, {
    // The lazy scan stops at the first END line: once that is in, more text changes nothing.
    settled: (match) => match.includes('-----END '),
  }),
  rule('anthropic-key', String.raw`${TOKEN_START}sk-ant-[A-Za-z0-9_-]{20,1024}`, String.raw`${TOKEN_START}sk-ant-`, 1_040),
  rule(
    'openai-key',
    String.raw`${TOKEN_START}sk-(?!ant-)(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,1024}`,
    String.raw`${TOKEN_START}sk-`,
    1_040,
    // Real keys are random mixed-case base62; "sk-learn-compatible-thing" is not one.
    { accept: (value) => /[a-z]/.test(value) && /[A-Z]/.test(value) && /[0-9]/.test(value) },
  ),
  rule('github-token', String.raw`(?<![A-Za-z0-9_])gh[pousr]_[A-Za-z0-9]{36,255}`, String.raw`(?<![A-Za-z0-9_])gh[pousr]_`, 260),
  rule('github-token', String.raw`(?<![A-Za-z0-9_])github_pat_[A-Za-z0-9_]{22,255}`, String.raw`(?<![A-Za-z0-9_])github_pat_`, 270),
  rule('gitlab-token', String.raw`${TOKEN_START}glpat-[A-Za-z0-9_-]{20,255}`, String.raw`${TOKEN_START}glpat-`, 265),
  rule('slack-token', String.raw`${TOKEN_START}xox[abeprs]-[A-Za-z0-9-]{10,255}`, String.raw`${TOKEN_START}xox[abeprs]-`, 265),
  rule('slack-webhook', String.raw`https://hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9_/-]{16,255}`, String.raw`https://hooks\.slack\.com/`, 300),
  rule('aws-access-key-id', String.raw`(?<![A-Z0-9])(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}(?![A-Z0-9])`, String.raw`(?<![A-Z0-9])(?:AKIA|ASIA|ABIA|ACCA)`, 20),
  rule(
    'aws-secret-key',
    String.raw`aws_?secret_?access_?key\\?["']?[ \t]{0,8}[:=][ \t]{0,8}\\?["']?([A-Za-z0-9/+=]{40})(?![A-Za-z0-9/+=])`,
    String.raw`aws_?secret_?access_?key`,
    100,
    { flags: 'i' },
  ),
  rule('google-api-key', String.raw`${TOKEN_START}AIza[0-9A-Za-z_-]{35}`, String.raw`${TOKEN_START}AIza`, 39),
  rule('stripe-key', String.raw`(?<![A-Za-z0-9_])(?:sk|rk)_live_[0-9A-Za-z]{20,255}`, String.raw`(?<![A-Za-z0-9_])(?:sk|rk)_live_`, 263),
  rule(
    'jwt',
    String.raw`${TOKEN_START}eyJ[A-Za-z0-9_-]{8,2048}\.[A-Za-z0-9_-]{8,8192}\.[A-Za-z0-9_-]{8,2048}(?![A-Za-z0-9_-])`,
    String.raw`${TOKEN_START}eyJ`,
    12_300,
    // Each part is a run that stops at a character outside it; the one after the match decides.
    { settled: (_match, matchEnd, textLength) => matchEnd < textLength },
  ),
  rule(
    'url-password',
    String.raw`(?<![A-Za-z0-9+.-])[A-Za-z][A-Za-z0-9+.-]{1,30}://[^\s:/@]{0,128}:([^\s@/]{1,256})@`,
    String.raw`(?<![A-Za-z0-9+.-])[A-Za-z][A-Za-z0-9+.-]{1,30}://`,
    420,
    { accept: (value) => acceptValue(value, '', true) },
  ),
  rule(
    'authorization',
    String.raw`(?:proxy-)?authorization\\?["']?[ \t]{0,8}[:=][ \t]{0,8}\\?["']?(?:basic|bearer|token|digest)[ \t]{1,8}([A-Za-z0-9._~+/=-]{8,4096})`,
    String.raw`(?:proxy-)?authorization`,
    4_160,
    { flags: 'i' },
  ),
  // `password=...` anywhere (env lines, URL queries, CLI flags, connection strings).
  rule('credential', String.raw`${ASSIGNMENT_KEY}\\?["']?[ \t]{0,8}=(?![=>~])[ \t]{0,8}${ASSIGNMENT_VALUE}`, ASSIGNMENT_KEY, 320, { flags: 'i', accept: acceptValue }),
  // `password: "..."` anywhere; `password: ...` unquoted only as a key at the start of a line
  // (YAML, headers), so prose like "rotate the secret: see docs" is left alone.
  rule('credential', String.raw`${ASSIGNMENT_KEY}\\?["']?[ \t]{0,8}:(?![:=])[ \t]{0,8}${QUOTED_VALUE}`, ASSIGNMENT_KEY, 320, { flags: 'i', accept: acceptValue }),
  rule(
    'credential',
    // The look-behind comes after the key so that it runs only where a key matched.
    String.raw`${ASSIGNMENT_KEY}(?<=^[ \t]{0,32}(?:- |export )?["']?[A-Za-z0-9_.-]{0,40}${ASSIGNMENT_KEY})["']?[ \t]{0,8}:(?![:=])[ \t]{0,8}${BARE_VALUE}`,
    ASSIGNMENT_KEY,
    320,
    { flags: 'im', accept: acceptValue },
  ),
  rule(
    'credential',
    String.raw`(?<![\w-])--(?:password|passwd|passphrase|secret|api-key|token)[ \t]{1,8}${ASSIGNMENT_VALUE}`,
    String.raw`(?<![\w-])--(?:password|passwd|passphrase|secret|api-key|token)`,
    300,
    { flags: 'i', accept: acceptValue },
  ),
];

// ---------------------------------------------------------------------------------------------
// Matching
// ---------------------------------------------------------------------------------------------

interface Match {
  start: number;
  end: number;
  /** Where the match that found this secret began (before the value, for assignments). */
  anchor: number;
  kind: string;
  priority: number;
}

interface Found {
  matches: Match[];
  /** `rule index:anchor` of rule matches that more text cannot change (see PatternRule.settled). */
  settled: Set<string>;
}

class SecretRedactor implements Redactor {
  readonly literalCount: number;
  private readonly literalPattern: RegExp | null;
  /** Kind of each literal secret and of each of its exact encoded forms. */
  private readonly literalKinds = new Map<string, string>();
  /** A literal match starting further back than this from the end of a stream's text is complete. */
  private readonly literalHold: number;

  constructor(options: RedactorOptions) {
    const literals = literalsFromEnv(options.env ?? {});
    for (const secret of options.secrets ?? []) {
      const usable = secret.length >= MIN_LITERAL_LENGTH && secret.length <= MAX_LITERAL_LENGTH;
      if (usable && !literals.has(secret)) literals.set(secret, 'secret');
    }
    this.literalCount = literals.size;
    const forms = new Map<string, LiteralForm>();
    for (const [secret, kind] of literals) {
      for (const text of exactForms(secret)) {
        if (this.literalKinds.has(text)) continue;
        this.literalKinds.set(text, kind);
        forms.set(text, exact(text));
      }
      const percent = percentEncodedForm(secret);
      if (percent) forms.set(percent.source, percent);
    }
    // Longest first: at one position the alternation takes the first form that matches.
    const sorted = [...forms.values()].sort((a, b) => b.maxLength - a.maxLength);
    this.literalPattern = sorted.length ? new RegExp(sorted.map((f) => f.source).join('|'), 'g') : null;
    this.literalHold = sorted.length ? sorted[0]!.maxLength - 1 : 0;
  }

  private literalKind(text: string): string {
    const direct = this.literalKinds.get(text);
    if (direct) return direct;
    for (const decoded of percentDecoded(text)) {
      const kind = this.literalKinds.get(decoded);
      if (kind) return kind;
    }
    return 'secret';
  }

  redact(text: string): string {
    return this.process(text, 0, true).output;
  }

  stream(): RedactorStream {
    const minHold = Math.max(this.literalHold, TRIGGER_MARGIN);
    let context = '';
    let pending = '';
    // Scanning again before enough new text arrived would emit nothing; waiting for the held
    // text to grow by half keeps many small chunks behind a long hold (a PEM block) linear.
    let retryAt = minHold + 1;
    const step = (final: boolean) => {
      const view = context + pending;
      const { output, cut } = this.process(view, context.length, final);
      pending = view.slice(cut);
      context = final ? '' : view.slice(Math.max(0, cut - CONTEXT_CHARS), cut);
      retryAt = final || output ? minHold + 1 : pending.length + Math.max(minHold, pending.length >> 1);
      return output;
    };
    return {
      push: (chunk) => {
        pending += chunk;
        return pending.length >= retryAt ? step(false) : '';
      },
      end: () => step(true),
    };
  }

  /**
   * Redacts `view` from `from` up to a cut: the end when `final`, otherwise the furthest point
   * before which every match is complete and none crosses. `view[0, from)` is context only.
   */
  private process(view: string, from: number, final: boolean): { output: string; cut: number } {
    const { matches, settled } = this.findMatches(view, from);
    const cut = final ? view.length : this.safeCut(view, from, matches, settled);
    const kept = final ? matches : matches.filter((m) => m.end <= cut);
    return { output: applyMatches(view, from, cut, kept), cut };
  }

  private findMatches(view: string, from: number): Found {
    const matches: Match[] = [];
    const settled = new Set<string>();
    const pattern = this.literalPattern;
    if (pattern) {
      pattern.lastIndex = from;
      for (let m = pattern.exec(view); m; m = pattern.exec(view)) {
        matches.push({ start: m.index, end: m.index + m[0].length, anchor: m.index, kind: this.literalKind(m[0]), priority: 0 });
        // Every start, not just after the previous match: overlapping secrets are all found.
        pattern.lastIndex = m.index + 1;
      }
    }
    RULES.forEach((r, i) => {
      r.pattern.lastIndex = from;
      for (let m = r.pattern.exec(view); m; m = r.pattern.exec(view)) {
        r.pattern.lastIndex = m.index + 1;
        if (r.settled?.(m[0], m.index + m[0].length, view.length)) settled.add(`${i}:${m.index}`);
        let group = 0;
        for (let g = 1; g < m.length; g++) {
          if (m[g] !== undefined) {
            group = g;
            break;
          }
        }
        const [start, end] = m.indices![group]!;
        const quoted = group > 0 && /["']/.test(view[start - 1] ?? '');
        if (r.accept && !r.accept(view.slice(start, end), view[end] ?? '', quoted)) continue;
        matches.push({ start, end, anchor: m.index, kind: r.kind, priority: i + 1 });
      }
    });
    return { matches, settled };
  }

  /** The furthest point of `view` whose prefix more text cannot change. */
  private safeCut(view: string, from: number, matches: Match[], settled: Set<string>): number {
    let cut = Math.max(from, view.length - Math.max(this.literalHold, TRIGGER_MARGIN));
    RULES.forEach((r, i) => {
      // A match starting this close to the end may not have all its characters yet.
      r.trigger.lastIndex = Math.max(from, view.length - r.maxLength - LOOKAHEAD);
      for (let t = r.trigger.exec(view); t && t.index < cut; t = r.trigger.exec(view)) {
        if (!settled.has(`${i}:${t.index}`)) {
          cut = t.index;
          break;
        }
        r.trigger.lastIndex = t.index + 1;
      }
    });
    // No match may cross the cut, and one that ends after it must be found again by the next
    // step, so the cut moves back to where it began. Moving back can make further matches
    // cross; walking them by descending end catches each in one pass.
    const byEnd = matches.filter((m) => m.end > from).sort((a, b) => b.end - a.end);
    for (const m of byEnd) {
      if (m.end <= cut) break;
      cut = Math.min(cut, m.start, m.anchor);
    }
    return cut;
  }
}

/** Writes `view[from, cut)` with every group of overlapping matches replaced by one marker. */
function applyMatches(view: string, from: number, cut: number, matches: Match[]): string {
  matches.sort((a, b) => a.start - b.start || b.end - a.end || a.priority - b.priority);
  const parts: string[] = [];
  let pos = from;
  for (let i = 0; i < matches.length;) {
    const first = matches[i]!;
    let end = first.end;
    // Adjacent matches stay separate: merging them would depend on where a stream cut falls.
    for (i++; i < matches.length && matches[i]!.start < end; i++) end = Math.max(end, matches[i]!.end);
    parts.push(view.slice(pos, first.start), `[REDACTED:${first.kind}]`);
    pos = end;
  }
  parts.push(view.slice(pos, cut));
  return parts.join('');
}

/** Builds a redactor for the given environment and extra secrets. Never throws. */
export function createRedactor(options: RedactorOptions = {}): Redactor {
  return new SecretRedactor(options);
}
