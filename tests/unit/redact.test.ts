import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { allowListedEnv, createRedactor, isSecretEnvName, type Redactor } from '../../services/tools/redact';

// Every token below is assembled at run time from a seeded generator, so no literal that looks
// like a real credential sits in the repository (and secret scanners stay quiet).

/** mulberry32: a small seeded generator, so failures reproduce. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const LOWER = 'abcdefghijklmnopqrstuvwxyz';
const DIGITS = '0123456789';
const ALNUM = UPPER + LOWER + DIGITS;
const rng = seeded(20_240_501);
const fake = (length: number, alphabet = ALNUM) => Array.from({ length }, () => alphabet[Math.floor(rng() * alphabet.length)]).join('');
/** Random, but with each character class present, as real keys almost always are. */
const mixed = (length: number) => 'Ab3' + fake(length - 3);
const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

const jwt = () => `${b64url({ alg: 'HS256', typ: 'JWT' })}.${b64url({ sub: '1234567890', name: 'Jane Doe', iat: 1_716_000_000 })}.${fake(43, ALNUM + '-_')}`;
const pemBody = (lines: number) => Array.from({ length: lines }, () => fake(64, ALNUM + '+/')).join('\n');
const pem = (label: string, lines = 25) => [`-----BEGIN ${label}-----`, pemBody(lines), `${fake(40, ALNUM + '+/')}==`, `-----END ${label}-----`].join('\n');
// Split so the file never contains a private-key header.
const PRIVATE_KEY = 'PRIVATE' + ' KEY';

const TOKENS: Array<[kind: string, token: string]> = [
  ['anthropic-key', 'sk-ant-' + 'api03-' + fake(93, ALNUM + '-_') + 'AA'],
  ['anthropic-key', 'sk-ant-' + 'admin01-' + fake(93, ALNUM + '-_') + 'AA'],
  ['openai-key', 'sk-' + 'proj-' + mixed(156)],
  ['openai-key', 'sk-' + mixed(48)],
  ['openai-key', 'sk-' + 'svcacct-' + mixed(120)],
  ['github-token', 'ghp_' + 'a'.repeat(36)],
  ['github-token', 'gho_' + fake(36)],
  ['github-token', 'ghu_' + fake(36)],
  ['github-token', 'ghs_' + fake(36)],
  ['github-token', 'ghr_' + fake(76)],
  ['github-token', 'github_' + 'pat_' + fake(22) + '_' + fake(59)],
  ['gitlab-token', 'glpat-' + fake(20, ALNUM + '-_')],
  ['slack-token', 'xox' + 'b-' + fake(12, DIGITS) + '-' + fake(13, DIGITS) + '-' + fake(24)],
  ['slack-token', 'xox' + 'p-' + fake(12, DIGITS) + '-' + fake(12, DIGITS) + '-' + fake(13, DIGITS) + '-' + fake(32, 'abcdef0123456789')],
  ['slack-token', 'xox' + 'a-2-' + fake(40)],
  ['slack-token', 'xox' + 'r-' + fake(30)],
  ['slack-token', 'xox' + 's-' + fake(30)],
  ['slack-webhook', 'https://hooks.slack.com/' + 'services/T' + fake(8, UPPER + DIGITS) + '/B' + fake(10, UPPER + DIGITS) + '/' + fake(24)],
  ['aws-access-key-id', 'AKIA' + fake(16, UPPER + DIGITS)],
  ['aws-access-key-id', 'ASIA' + fake(16, UPPER + DIGITS)],
  ['google-api-key', 'AIza' + fake(35, ALNUM + '-_')],
  ['stripe-key', 'sk' + '_live_' + fake(24)],
  ['stripe-key', 'rk' + '_live_' + fake(99)],
  ['jwt', jwt()],
];

const plain = createRedactor();

describe('known token formats', () => {
  it.each(TOKENS)('redacts a %s in running text, keeping the text around it', (kind, token) => {
    const text = `deploy: using ${token} for the request\n`;
    expect(plain.redact(text)).toBe(`deploy: using [REDACTED:${kind}] for the request\n`);
  });

  it.each(TOKENS)('redacts a %s inside JSON, quotes and at the very start and end of the output', (kind, token) => {
    expect(plain.redact(JSON.stringify({ token }))).toBe(`{"token":"[REDACTED:${kind}]"}`);
    expect(plain.redact(`export TOKEN='${token}'`)).toBe(`export TOKEN='[REDACTED:${kind}]'`);
    expect(plain.redact(token)).toBe(`[REDACTED:${kind}]`);
  });

  it('redacts an AWS secret access key assignment, value only, in credentials-file and env styles', () => {
    const secret = fake(40, ALNUM + '/+');
    expect(plain.redact(`[default]\naws_secret_access_key = ${secret}\nregion = eu-west-1`)).toBe(
      '[default]\naws_secret_access_key = [REDACTED:aws-secret-key]\nregion = eu-west-1',
    );
    expect(plain.redact(`AWS_SECRET_ACCESS_KEY="${secret}"`)).toBe('AWS_SECRET_ACCESS_KEY="[REDACTED:aws-secret-key]"');
  });

  it.each(['RSA ' + PRIVATE_KEY, PRIVATE_KEY, 'EC ' + PRIVATE_KEY, 'OPENSSH ' + PRIVATE_KEY, 'ENCRYPTED ' + PRIVATE_KEY, 'PGP ' + PRIVATE_KEY + ' BLOCK'])(
    'redacts a multi-line %s block as one marker',
    (label) => {
      const text = `$ cat key.pem\n${pem(label)}\n$ echo done\ndone\n`;
      expect(plain.redact(text)).toBe('$ cat key.pem\n[REDACTED:private-key]\n$ echo done\ndone\n');
    },
  );

  it('redacts a private key embedded in JSON with escaped newlines', () => {
    const out = plain.redact(JSON.stringify({ type: 'service_account', private_key: `${pem(PRIVATE_KEY)}\n`, client_email: 'ci@example.iam' }));
    expect(out).toBe('{"type":"service_account","private_key":"[REDACTED:private-key]\\n","client_email":"ci@example.iam"}');
  });

  it('redacts the body of a private key block cut off before its END line', () => {
    const body = pemBody(10);
    const out = plain.redact(`-----BEGIN ${PRIVATE_KEY}-----\n${body}\n[output truncated]`);
    expect(out).toBe('[REDACTED:private-key]\n[output truncated]');
  });

  it('leaves public keys and certificates alone', () => {
    const text = ['-----BEGIN PUBLIC KEY-----', pemBody(4), '-----END PUBLIC KEY-----', '-----BEGIN CERTIFICATE-----', pemBody(4), '-----END CERTIFICATE-----'].join('\n');
    expect(plain.redact(text)).toBe(text);
  });

  it.each([
    ['postgres://user:PASS@host/db', 'postgres://user:[REDACTED:url-password]@host/db'],
    ['DATABASE_URL=postgresql://app:s3cr3t-pw@db.internal:5432/app?sslmode=require', 'DATABASE_URL=postgresql://app:[REDACTED:url-password]@db.internal:5432/app?sslmode=require'],
    ['redis://:hunter22@cache:6379/0', 'redis://:[REDACTED:url-password]@cache:6379/0'],
    ['mongodb+srv://admin:S3cr3t%40x@cluster0.example.net/test', 'mongodb+srv://admin:[REDACTED:url-password]@cluster0.example.net/test'],
    ['fatal: unable to access https://bot:tok3n-value@git.example.com/org/repo.git/', 'fatal: unable to access https://bot:[REDACTED:url-password]@git.example.com/org/repo.git/'],
  ])('redacts the password in the URL %s', (text, expected) => {
    expect(plain.redact(text)).toBe(expected);
  });

  it.each([
    'https://example.com:8443/path?q=1',
    'git@github.com:org/repo.git',
    'ssh://git@github.com/org/repo.git',
    'http://[::1]:8080/health',
    'see https://user@example.com/docs',
    'postgres://user:${DB_PASSWORD}@host/db',
  ])('leaves the URL %s alone', (text) => {
    expect(plain.redact(text)).toBe(text);
  });

  it.each([
    ['password=hunter22', 'password=[REDACTED:credential]'],
    ['DB_PASSWORD=s3cr3t!x', 'DB_PASSWORD=[REDACTED:credential]'],
    ["export PGPASSWORD='correct horse battery'", "export PGPASSWORD='[REDACTED:credential]'"],
    ['passwd: hunter22', 'passwd: [REDACTED:credential]'],
    ['database:\n  password: hunter22\n  host: db', 'database:\n  password: [REDACTED:credential]\n  host: db'],
    ['  - secret: abc123def', '  - secret: [REDACTED:credential]'],
    ['client_secret = "abc123def"', 'client_secret = "[REDACTED:credential]"'],
    ['{"username":"app","password":"hunter22"}', '{"username":"app","password":"[REDACTED:credential]"}'],
    ['{\\"password\\":\\"hunter22\\"}', '{\\"password\\":\\"[REDACTED:credential]\\"}'],
    ['GET /v1/items?api_key=abc123def&format=json', 'GET /v1/items?api_key=[REDACTED:credential]&format=json'],
    ['Server=db;User Id=sa;Password=P@ssw0rd1;Database=app', 'Server=db;User Id=sa;Password=[REDACTED:credential];Database=app'],
    ['mysql -u root --password=hunter22 app', 'mysql -u root --password=[REDACTED:credential] app'],
    ['mysql -u root --password hunter22 app', 'mysql -u root --password [REDACTED:credential] app'],
    ['const apiKey = "abcd1234efgh";', 'const apiKey = "[REDACTED:credential]";'],
    ['X-Api-Key: abc123def456', 'X-Api-Key: [REDACTED:credential]'],
    ['Authorization: Basic dXNlcjpwYXNzd29yZA==', 'Authorization: Basic [REDACTED:authorization]'],
    ['curl -H "Authorization: Bearer abc.def-123_ghi"', 'curl -H "Authorization: Bearer [REDACTED:authorization]"'],
  ])('redacts only the value of %j', (text, expected) => {
    expect(plain.redact(text)).toBe(expected);
  });
});

const SECRET = 'sEcr3t>>>???-value~'; // >>> and ??? make '+' and '/' appear in its base64
const API_KEY = 'sk-ant-' + 'api03-' + fake(93, ALNUM + '-_') + 'AA';
const ENV = { ANTHROPIC_API_KEY: API_KEY, SERVICE_TOKEN: SECRET, PATH: '/usr/local/bin:/usr/bin', HOME: '/home/agent' };
const withEnv = createRedactor({ env: ENV });

describe('literal secrets from the environment', () => {
  it('takes the values of secret-looking variables of at least 8 characters, named after the variable', () => {
    const r = createRedactor({
      env: { ANTHROPIC_API_KEY: API_KEY, GITHUB_TOKEN: 'tok-' + fake(20), MY_PASSWORD: 'short', PATH: '/usr/bin', GIT_AUTHOR_NAME: 'Jane Q. Doe', UNSET: undefined },
    });
    expect(r.literalCount).toBe(2);
    expect(r.redact(`key ${API_KEY} end`)).toBe('key [REDACTED:env:ANTHROPIC_API_KEY] end');
    expect(r.redact('ok short /usr/bin Jane Q. Doe')).toBe('ok short /usr/bin Jane Q. Doe');
  });

  it('ignores values under secret-looking names that are configuration, not secrets', () => {
    const r = createRedactor({
      env: {
        SSH_AUTH_SOCK: '/tmp/ssh-XXXXabcd/agent.1234',
        SESSION_DRIVER: 'database',
        AUTH_URL: 'https://auth.example.com/login',
        COOKIE_SECURE: 'true',
        TOKEN_TTL_SECONDS: '86400000',
        AWS_REGION: 'eu-central-1',
        SECRET_FILL: 'xxxxxxxxxxxx',
      },
    });
    expect(r.literalCount).toBe(0);
  });

  it('treats any URL with a password as secret, and its password on its own as well', () => {
    const password = 'pw-' + fake(16);
    const url = `postgres://app:${password}@db.internal:5432/app`;
    const r = createRedactor({ env: { DATABASE_URL: url, HTTP_PROXY: `http://proxy-user:${fake(14)}@proxy:3128` } });
    expect(r.literalCount).toBe(4);
    expect(r.redact(`connecting to ${url} ...`)).toBe('connecting to [REDACTED:env:DATABASE_URL] ...');
    expect(r.redact(`FATAL: password "${password}" rejected`)).toBe('FATAL: password "[REDACTED:env:DATABASE_URL]" rejected');
  });

  it('redacts extra secrets given by the caller, also encoded', () => {
    const extra = 'extra-' + fake(20);
    const r = createRedactor({ secrets: [extra, 'tiny', fake(10_000)] });
    expect(r.literalCount).toBe(1);
    expect(r.redact(`a ${extra} b ${Buffer.from(extra).toString('hex')} c tiny`)).toBe('a [REDACTED:secret] b [REDACTED:secret] c tiny');
  });

  it('redacts hex in lower and upper case, alone and inside a longer hex dump', () => {
    const hex = Buffer.from(SECRET).toString('hex');
    expect(withEnv.redact(`x ${hex} y`)).toBe('x [REDACTED:env:SERVICE_TOKEN] y');
    expect(withEnv.redact(`x ${hex.toUpperCase()} y`)).toBe('x [REDACTED:env:SERVICE_TOKEN] y');
    const dump = Buffer.from(`header:${SECRET}:trailer`).toString('hex');
    expect(withEnv.redact(dump)).toBe(`${Buffer.from('header:').toString('hex')}[REDACTED:env:SERVICE_TOKEN]${Buffer.from(':trailer').toString('hex')}`);
  });

  it('redacts URL-encoded forms whatever the encoder', () => {
    const secret = 'p@ss w0rd/+=&?!*(x)~';
    const r = createRedactor({ env: { DB_PASSWORD: secret } });
    const forms = [encodeURIComponent(secret), encodeURIComponent(secret).toLowerCase(), new URLSearchParams({ q: secret }).toString().slice(2), encodeURI(secret), escape(secret)];
    for (const form of forms) expect(r.redact(`GET /login?u=app&p=${form}&next=/`), form).toBe('GET /login?u=app&p=[REDACTED:env:DB_PASSWORD]&next=/');
  });

  it('redacts JSON-escaped forms', () => {
    const secret = 'quote"back\\slash-' + fake(8);
    const r = createRedactor({ env: { APP_SECRET: secret } });
    expect(r.redact(JSON.stringify({ config: { value: secret } }))).toBe('{"config":{"value":"[REDACTED:env:APP_SECRET]"}}');
  });

  describe('base64', () => {
    // Where the secret starts inside the blob decides its alignment within base64's 3-byte groups.
    const prefixes = ['', 'a', 'ab', 'abc', 'abcd', 'token: ', 'Authorization header was ', 'x'.repeat(31)];
    const suffixes = ['', 'z', 'yz', '\n', ' trailing words'];
    const cases = prefixes.flatMap((prefix) => suffixes.map((suffix) => [prefix.length, suffix.length, prefix, suffix] as const));

    /** The marker must cover every base64 character made only of the secret's bits, and change nothing else. */
    function expectCovered(encoded: string, out: string, prefixBytes: number, secretBytes: number, kind: string) {
      const marker = `[REDACTED:${kind}]`;
      const at = out.indexOf(marker);
      expect(at, `no marker in ${out}`).toBeGreaterThanOrEqual(0);
      const head = out.slice(0, at);
      const tail = out.slice(at + marker.length);
      expect(encoded.startsWith(head) && encoded.endsWith(tail)).toBe(true);
      expect(head.length).toBeLessThanOrEqual(Math.ceil((8 * prefixBytes) / 6));
      expect(encoded.length - tail.length).toBeGreaterThanOrEqual(Math.floor((8 * (prefixBytes + secretBytes)) / 6));
    }

    it.each(cases)('standard alphabet, %i-byte prefix, %i-byte suffix', (_p, _s, prefix, suffix) => {
      const encoded = Buffer.from(prefix + SECRET + suffix).toString('base64');
      expectCovered(encoded, withEnv.redact(encoded), prefix.length, SECRET.length, 'env:SERVICE_TOKEN');
    });

    it.each(cases)('URL-safe alphabet without padding, %i-byte prefix, %i-byte suffix', (_p, _s, prefix, suffix) => {
      const encoded = Buffer.from(prefix + SECRET + suffix).toString('base64url');
      expectCovered(encoded, withEnv.redact(encoded), prefix.length, SECRET.length, 'env:SERVICE_TOKEN');
    });

    it('really exercises both alphabets: the test secret encodes to + and / somewhere', () => {
      const standard = [0, 1, 2].map((n) => Buffer.from('a'.repeat(n) + SECRET).toString('base64')).join('');
      expect(standard).toMatch(/\+/);
      expect(standard).toMatch(/\//);
    });

    it('redacts a whole padded blob that is exactly the secret, padding included', () => {
      expect(withEnv.redact(`value: ${Buffer.from(SECRET).toString('base64')}\n`)).toBe('value: [REDACTED:env:SERVICE_TOKEN]\n');
      expect(withEnv.redact(`value: ${Buffer.from(API_KEY).toString('base64')}\n`)).toBe('value: [REDACTED:env:ANTHROPIC_API_KEY]\n');
    });

    it('redacts a secret inside a base64-encoded config file (Kubernetes secret style)', () => {
      const encoded = Buffer.from(`apiVersion: v1\nkind: Config\nstringData:\n  key: ${API_KEY}\n  other: value\n`).toString('base64');
      const out = withEnv.redact(`data:\n  config: ${encoded}\n`);
      expect(out).toContain('[REDACTED:env:ANTHROPIC_API_KEY]');
      expect(Buffer.from(out.slice(out.indexOf('config: ') + 8), 'base64').toString('latin1')).not.toContain(API_KEY.slice(10, 30));
    });
  });
});

describe('false positives', () => {
  const gitLog = [
    'commit 3f786850e387550fdab836ed7e6dc881de23001b (HEAD -> main, origin/main)',
    'Merge: 1a2b3c4 5d6e7f8',
    'Author: Jane Doe <jane@example.com>',
    'Date:   Mon May 6 14:02:11 2024 +0200',
    '',
    '    Rotate the API key and fix the password reset flow (#123)',
    '',
    '    Secret scanning flagged the old config; the token is now read from the',
    '    environment. Password: see the vault entry for details.',
    '',
    '    Signed-off-by: Jane Doe <jane@example.com>',
    '',
    'diff --git a/services/config.ts b/services/config.ts',
    'index 83db48f..bf269f4 100644',
    '--- a/services/config.ts',
    '+++ b/services/config.ts',
    '@@ -1,4 +1,5 @@',
    '+  ANTHROPIC_API_KEY: z.string().optional(),',
    '',
    'commit da39a3ee5e6b4b0d3255bfef95601890afd80709',
    'ba7816bf8f01cfea414140de5dae2223b00361a96177a9cb410ff61f20015ad',
    'e3b0c442 fix: handle secret rotation',
  ].join('\n');

  const code = `import { z } from 'zod';

export const Login = z.object({ username: z.string(), password: z.string().min(8), apiKey: z.string().optional() });

export async function login(input: { username: string; password: string }, token?: string) {
  const password = input.password;
  const apiKey = process.env.ANTHROPIC_API_KEY;
  if (password === confirmPassword) return null;
  const headers = { Authorization: \`Bearer \${token}\`, 'x-request-id': randomUUID() };
  const secret = await vault.read('db/secret');
  const hash = crypto.createHash('sha256').update(password).digest('hex');
  return fetch(url, { headers, body: JSON.stringify({ password, secret: secret.value }) });
}

def connect(user, password=None, *, secret_key=settings.SECRET_KEY):
    password = getpass.getpass("Password: ")
    api_key = os.environ["API_KEY"]
    return psycopg.connect(user=user, password=password)

jobs:
  deploy:
    env:
      API_KEY: \${{ secrets.API_KEY }}
      DB_PASSWORD: \${DB_PASSWORD}
    steps:
      - run: echo "set password=<your password> in .env"
`;

  it('leaves git log and diff output unchanged (40-hex SHAs included)', () => {
    expect(withEnv.redact(gitLog)).toBe(gitLog);
  });

  it('redacts a 40-hex string only when it is the hex form of a secret', () => {
    const twentyChars = 'twenty-char-secret!!';
    const r = createRedactor({ env: { SIGNING_SECRET: twentyChars } });
    const hex = Buffer.from(twentyChars).toString('hex');
    expect(hex).toMatch(/^[0-9a-f]{40}$/);
    expect(r.redact(`commit ${hex}\ncommit 3f786850e387550fdab836ed7e6dc881de23001b`)).toBe(
      'commit [REDACTED:env:SIGNING_SECRET]\ncommit 3f786850e387550fdab836ed7e6dc881de23001b',
    );
  });

  it('leaves UUIDs unchanged', () => {
    const uuids = Array.from({ length: 200 }, () => randomUUID());
    const text = `${uuids.join('\n')}\n${uuids.map((u) => u.toUpperCase()).join(' ')}`;
    expect(withEnv.redact(text)).toBe(text);
  });

  it('leaves base64 of ordinary text unchanged, at every alignment', () => {
    const prose = 'The quick brown fox jumps over the lazy dog. Secrets are read from the environment. ';
    for (let i = 0; i < 3; i++) {
      const encoded = Buffer.from('x'.repeat(i) + prose.repeat(20)).toString('base64');
      expect(withEnv.redact(encoded)).toBe(encoded);
      expect(withEnv.redact(Buffer.from(prose).toString('base64url'))).toBe(Buffer.from(prose).toString('base64url'));
    }
  });

  it('leaves ordinary source code unchanged', () => {
    expect(withEnv.redact(code)).toBe(code);
  });

  it('does not redact short words or words that merely mention secrets', () => {
    const r = createRedactor({ env: { API_KEY: 'abc', TOKEN: 'tok' }, secrets: ['pass'] });
    const text = 'abc tok pass password secret token key. Enter your password: ******** then press enter. sk-learn-compatible-estimator-v2';
    expect(r.literalCount).toBe(0);
    expect(r.redact(text)).toBe(text);
  });

  it('is idempotent: redacting redacted output changes nothing', () => {
    const text = `${TOKENS.map(([, t]) => t).join(' ')} password=hunter22 postgres://u:p4ss@h/db ${API_KEY}`;
    const once = withEnv.redact(text);
    expect(withEnv.redact(once)).toBe(once);
  });
});

/** Pushes the chunks through a fresh stream and returns every piece it emitted. */
function streamPieces(redactor: Redactor, chunks: string[]): string[] {
  const s = redactor.stream();
  return [...chunks.map((c) => s.push(c)), s.end()];
}

describe('streaming', () => {
  const filler = (n: number) => Array.from({ length: n }, (_, i) => `line ${i}: build step ok\n`).join('');
  const before = filler(20);
  const after = filler(20);
  const cases: Array<[name: string, secret: string]> = [
    ['an env secret', API_KEY],
    ['an env secret in base64', Buffer.from(`key=${SECRET};`).toString('base64')],
    ['an env secret in hex', Buffer.from(SECRET).toString('hex')],
    ['an env secret URL-encoded', encodeURIComponent(SECRET)],
    ['a GitHub token', 'ghp_' + fake(36)],
    ['a JWT', jwt()],
    ['a password assignment', 'password=hunter22-and-more'],
    ['a URL password', 'postgres://app:' + fake(20) + '@db:5432/app'],
  ];

  it.each(cases)('%s split at every position across 2 chunks', (_name, secret) => {
    const text = before + secret + after;
    const whole = withEnv.redact(text);
    expect(whole).not.toBe(text);
    for (let i = before.length - 2; i <= before.length + secret.length + 2; i++) {
      const pieces = streamPieces(withEnv, [text.slice(0, i), text.slice(i)]);
      expect(pieces.join(''), `split at ${i}`).toBe(whole);
    }
  });

  it.each(cases)('%s split at every pair of positions across 3 chunks', (_name, secret) => {
    const text = before + secret + after;
    const whole = withEnv.redact(text);
    const from = before.length - 1;
    const to = before.length + secret.length + 1;
    for (let i = from; i <= to; i++) {
      for (let j = i; j <= to; j++) {
        const pieces = streamPieces(withEnv, [text.slice(0, i), text.slice(i, j), text.slice(j)]);
        expect(pieces.join(''), `split at ${i}, ${j}`).toBe(whole);
      }
    }
  });

  it('a private key block split at every position across 2 chunks, and at many triples', () => {
    const key = pem('RSA ' + PRIVATE_KEY, 12);
    const text = before + key + after;
    const whole = withEnv.redact(text);
    expect(whole).toBe(`${before}[REDACTED:private-key]${after}`);
    for (let i = before.length - 2; i <= before.length + key.length + 2; i++) {
      expect(streamPieces(withEnv, [text.slice(0, i), text.slice(i)]).join(''), `split at ${i}`).toBe(whole);
    }
    for (let i = before.length; i <= before.length + key.length; i += 37) {
      for (let j = i; j <= before.length + key.length; j += 41) {
        expect(streamPieces(withEnv, [text.slice(0, i), text.slice(i, j), text.slice(j)]).join('')).toBe(whole);
      }
    }
  });

  it('one character at a time gives the same output as redacting the whole', () => {
    const text = cases.map(([, secret]) => `${filler(2)}${secret}`).join('') + pem(PRIVATE_KEY, 3) + filler(3);
    const whole = withEnv.redact(text);
    expect(streamPieces(withEnv, [...text]).join('')).toBe(whole);
  });

  it('random chunkings of mixed output reassemble to redact(whole)', () => {
    const random = seeded(7);
    const parts: string[] = [];
    for (let i = 0; i < 60; i++) {
      parts.push(filler(1 + Math.floor(random() * 5)));
      parts.push(cases[i % cases.length]![1], ' ', TOKENS[i % TOKENS.length]![1], '\n');
      if (i % 15 === 0) parts.push(pem('EC ' + PRIVATE_KEY, 4), '\n');
      if (i % 10 === 0) parts.push(Buffer.from('x'.repeat(i % 3) + API_KEY + 'tail').toString('base64'), '\n');
    }
    const text = parts.join('');
    const whole = withEnv.redact(text);
    for (let round = 0; round < 30; round++) {
      const maxChunk = [1, 7, 64, 500, 4096, 70_000][round % 6]!;
      const chunks: string[] = [];
      for (let pos = 0; pos < text.length;) {
        const size = 1 + Math.floor(random() * maxChunk);
        chunks.push(text.slice(pos, pos + size));
        pos += size;
      }
      expect(streamPieces(withEnv, chunks).join(''), `round ${round}`).toBe(whole);
    }
  });

  it('emits early: only a short tail is held back when nothing secret-like is pending', () => {
    const s = withEnv.stream();
    const text = filler(500);
    const emitted = s.push(text);
    const hold = text.length - emitted.length;
    // The longest encoded form of the longest secret (the percent-encoded API key) bounds it.
    expect(hold).toBeGreaterThan(0);
    expect(hold).toBeLessThanOrEqual(3 * API_KEY.length);
    expect(emitted + s.end()).toBe(text);
  });

  it('never emits the start of a secret before it is complete', () => {
    const s = withEnv.stream();
    let out = s.push(`${filler(30)}token ${API_KEY.slice(0, 20)}`);
    expect(out).not.toContain(API_KEY.slice(0, 8));
    out += s.push(`${API_KEY.slice(20)} done\n${filler(30)}`);
    out += s.end();
    expect(out).toBe(`${filler(30)}token [REDACTED:env:ANTHROPIC_API_KEY] done\n${filler(30)}`);
  });

  it('can be reused after end', () => {
    const s = withEnv.stream();
    expect(s.push('first ') + s.push(API_KEY) + s.end()).toBe('first [REDACTED:env:ANTHROPIC_API_KEY]');
    expect(s.push('second ') + s.end()).toBe('second ');
  });
});

describe('throughput', () => {
  it('redacts 5 MB of mixed tool output in reasonable time, whole and streamed', () => {
    const env: Record<string, string> = { ...ENV, GITHUB_TOKEN: 'ghp_' + fake(36), DB_PASSWORD: 'c0rrect-h0rse-battery' };
    for (let i = 0; i < 20; i++) env[`SERVICE_${i}_TOKEN`] = `tok_${i}_${fake(24)}`;
    const r = createRedactor({ env });
    const lines = [
      'commit 3f786850e387550fdab836ed7e6dc881de23001b',
      'Author: Jane Doe <jane@example.com>',
      '    Fix the password reset flow and rotate keys',
      'const config = loadConfig(process.env); // parse once',
      '  "dependencies": { "zod": "^4.6.7", "pg": "^8.23.1" },',
      `2024-05-01T12:00:00Z INFO request id=${randomUUID()} status=200 took=12ms`,
      'export function add(a: number, b: number): number { return a + b; }',
      '  password: z.string().min(8),',
      Buffer.from('hello world, this is ordinary text in base64 form').toString('base64'),
    ];
    const parts: string[] = [];
    let size = 0;
    let leaks = 0;
    for (let i = 0; size < 5 * 1024 * 1024; i++) {
      const line = i % 5_000 === 4_999 ? `leaked ${env.GITHUB_TOKEN} and ${API_KEY}` : lines[i % lines.length]!;
      if (i % 5_000 === 4_999) leaks++;
      parts.push(line, '\n');
      size += line.length + 1;
    }
    const text = parts.join('');

    let started = performance.now();
    const whole = r.redact(text);
    const wholeMs = performance.now() - started;

    started = performance.now();
    const s = r.stream();
    const pieces: string[] = [];
    for (let pos = 0; pos < text.length; pos += 65_536) pieces.push(s.push(text.slice(pos, pos + 65_536)));
    pieces.push(s.end());
    const streamMs = performance.now() - started;

    const mb = text.length / (1024 * 1024);
    console.log(
      `redact: ${mb.toFixed(1)} MB in ${wholeMs.toFixed(0)} ms (${(mb / (wholeMs / 1000)).toFixed(1)} MB/s); ` +
        `stream in 64 KB chunks: ${streamMs.toFixed(0)} ms (${(mb / (streamMs / 1000)).toFixed(1)} MB/s)`,
    );
    expect(pieces.join('')).toBe(whole);
    expect(whole.split('[REDACTED:').length - 1).toBe(2 * leaks);
    expect(wholeMs).toBeLessThan(5_000);
    expect(streamMs).toBeLessThan(5_000);
  });
});

describe('isSecretEnvName', () => {
  it.each([
    'ANTHROPIC_API_KEY',
    'GITHUB_TOKEN',
    'GH_TOKEN',
    'NPM_TOKEN',
    'DB_PASSWORD',
    'MYSQL_ROOT_PASSWORD',
    'PGPASSWORD',
    'SMTP_PASSWD',
    'CLIENT_SECRET',
    'GOOGLE_APPLICATION_CREDENTIALS',
    'SSH_AUTH_SOCK',
    'BASIC_AUTH',
    'PRIVATE_KEY',
    'SESSION_SECRET',
    'COOKIE_KEY',
    'DATABASE_URL',
    'SENTRY_DSN',
    'AWS_ACCESS_KEY_ID',
    'AWS_SECRET_ACCESS_KEY',
    'AWS_SESSION_TOKEN',
    'stripe_api_key',
  ])('%s looks secret', (name) => {
    expect(isSecretEnvName(name)).toBe(true);
  });

  it.each(['PATH', 'HOME', 'PWD', 'OLDPWD', 'GIT_AUTHOR_NAME', 'KEYBOARD_LAYOUT', 'LANG', 'NODE_ENV', 'AWS_REGION', 'AWS_PROFILE', 'ANTHROPIC_BASE_URL', 'TERM'])(
    '%s does not',
    (name) => {
      expect(isSecretEnvName(name)).toBe(false);
    },
  );
});

describe('allowListedEnv', () => {
  const env = {
    PATH: '/usr/bin',
    HOME: '/home/agent',
    LANG: 'C.UTF-8',
    LC_ALL: 'C.UTF-8',
    LC_CTYPE: 'C.UTF-8',
    TERM: 'xterm',
    TZ: 'UTC',
    USER: 'agent',
    SHELL: '/bin/bash',
    TMPDIR: '/tmp',
    NODE_ENV: 'test',
    CI: 'true',
    ANTHROPIC_API_KEY: API_KEY,
    GITHUB_TOKEN: 'ghp_' + fake(36),
    DATABASE_URL: 'postgres://u:p@h/db',
    SSH_AUTH_SOCK: '/tmp/ssh/agent',
    AWS_SECRET_ACCESS_KEY: fake(40),
    AWS_REGION: 'eu-west-1',
    UNSET: undefined,
  };

  it('passes only the base variables', () => {
    expect(allowListedEnv(env)).toEqual({
      PATH: '/usr/bin',
      HOME: '/home/agent',
      LANG: 'C.UTF-8',
      LC_ALL: 'C.UTF-8',
      LC_CTYPE: 'C.UTF-8',
      TERM: 'xterm',
      TZ: 'UTC',
      USER: 'agent',
      SHELL: '/bin/bash',
      TMPDIR: '/tmp',
    });
  });

  it('adds extra names, but never secret-looking ones even when asked', () => {
    const result = allowListedEnv(env, ['NODE_ENV', 'CI', 'AWS_REGION', 'UNSET', 'ANTHROPIC_API_KEY', 'GITHUB_TOKEN', 'DATABASE_URL', 'SSH_AUTH_SOCK', 'AWS_SECRET_ACCESS_KEY']);
    expect(Object.keys(result).sort()).toEqual(['AWS_REGION', 'CI', 'HOME', 'LANG', 'LC_ALL', 'LC_CTYPE', 'NODE_ENV', 'PATH', 'SHELL', 'TERM', 'TMPDIR', 'TZ', 'USER']);
  });
});
