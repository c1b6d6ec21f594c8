import { describe, expect, it } from 'bun:test';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, helpText, loadConfig, OPTIONS } from '../lib/config.ts';
import { ROOT, SERVER_COMMAND, waitFor } from './helpers.ts';

const shown = (value: string | number | boolean) => JSON.stringify(value);

/** Runs the server command to its end (it must exit by itself: --help or a refused value). */
async function run(args: string[], env: Record<string, string> = {}) {
  const proc = Bun.spawn([...SERVER_COMMAND, ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdout: 'pipe', stderr: 'pipe' });
  const stdout = new Response(proc.stdout).text();
  const stderr = new Response(proc.stderr).text();
  try {
    await waitFor(() => proc.exitCode !== null, `${args.join(' ')} to exit`, 15_000);
  } finally {
    proc.kill();
  }
  return { code: proc.exitCode, stdout: await stdout, stderr: await stderr };
}

describe('loadConfig', () => {
  it('takes a flag over its variable over the default', () => {
    expect(loadConfig([], {}).history).toBe(100);
    expect(loadConfig([], { CHAT_HISTORY: '7' }).history).toBe(7);
    expect(loadConfig(['--history', '9'], { CHAT_HISTORY: '7' }).history).toBe(9);
    expect(loadConfig([], { PORT: '4000' }).port).toBe(4000);
    expect(loadConfig([], { PORT: '4000', CHAT_PORT: '4001' }).port).toBe(4001);
  });

  it('takes REDIS_URL as the store only when neither --store nor CHAT_STORE says one', () => {
    const redis = 'redis://127.0.0.1:6379/13';
    expect(loadConfig([], {}).store).toBe('sqlite');
    expect(loadConfig([], { REDIS_URL: redis }).store).toBe(redis);
    expect(loadConfig([], { REDIS_URL: redis, CHAT_STORE: 'memory' }).store).toBe('memory');
    expect(loadConfig([], { REDIS_URL: redis, CHAT_STORE: '' }).store).toBe(redis);
    expect(loadConfig(['--store', 'memory'], { REDIS_URL: redis, CHAT_STORE: 'sqlite' }).store).toBe('memory');
    expect(() => loadConfig([], { REDIS_URL: 'postgres://x' })).toThrow('--store (CHAT_STORE): "postgres://x" must be sqlite, memory or a redis:// URL');
  });

  it('reads every option from its environment variable', () => {
    const samples: Record<string, string> = { int: '1', string: '', bool: 'yes' };
    for (const [name, spec] of Object.entries(OPTIONS)) {
      const special: Record<string, string> = { auth: 'accounts', 'default-access': 'read-only', 'session-idle': '12h', 'session-max': '2d', token: 'a token of 16 or more', 'jwt-alg': 'ES256', 'public-url': 'https://chat.example.com', listen: 'unix:/run/threadchat/chat.sock', heartbeat: '1000' };
      const value = special[name] ?? (name === 'store' ? 'memory' : name === 'sync' ? 'normal' : name === 'log' ? 'json' : name === 'log-level' ? 'warn' : name === 'trust-proxy' ? '127.0.0.1,::1' : samples[spec.kind] || 'x');
      if (name === 'token-file') continue; // reads a file: its own test below
      const config = loadConfig([], { [spec.env]: value }) as unknown as Record<string, unknown>;
      expect(String(config[name])).toBe(spec.kind === 'bool' ? 'true' : value);
    }
  });

  it('reads --trust-proxy as addresses and CIDRs, IPv4 and IPv6; none by default', () => {
    expect(loadConfig([], {})['trust-proxy']).toBe('');
    const list = '127.0.0.1, 10.0.0.0/8,::1,2001:db8::/32,::ffff:192.168.0.0/112';
    expect(loadConfig(['--trust-proxy', list], {})['trust-proxy']).toBe(list);
    expect(loadConfig([], { CHAT_TRUST_PROXY: '0.0.0.0/0' })['trust-proxy']).toBe('0.0.0.0/0');
  });

  it('reads --public-url as http(s) origins, several with commas; none by default', () => {
    expect(loadConfig([], {})['public-url']).toBe('');
    const list = 'https://chat.example.com, http://10.0.0.5:3000/,https://[2001:db8::1]:8443';
    expect(loadConfig(['--public-url', list], {})['public-url']).toBe(list);
    expect(loadConfig([], { CHAT_PUBLIC_URL: 'https://chat.example.com' })['public-url']).toBe('https://chat.example.com');
    const refused = (value: string) => () => loadConfig(['--public-url', value], {});
    expect(refused('chat.example.com')).toThrow('--public-url (CHAT_PUBLIC_URL): "chat.example.com" is not a URL');
    expect(refused('ftp://chat.example.com')).toThrow('"ftp://chat.example.com" is not an http:// or https:// URL');
    expect(refused('https://chat.example.com/chat')).toThrow('"https://chat.example.com/chat" has more than a scheme, a host and a port');
    expect(refused('https://a.example,,https://b.example')).toThrow('an empty entry');
  });

  it('counts an empty variable as unset', () => {
    expect(loadConfig([], { CHAT_PORT: '', CHAT_FAULTS: '' })).toMatchObject({ port: 3000, faults: false });
  });

  it('reads the logging options', () => {
    expect(loadConfig([], {})).toMatchObject({ log: '', 'log-level': 'info', 'log-messages': false });
    expect(loadConfig(['--log', 'json', '--log-level', 'debug', '--log-messages'], {})).toMatchObject({ log: 'json', 'log-level': 'debug', 'log-messages': true });
    expect(loadConfig([], { CHAT_LOG_MESSAGES: 'off', CHAT_LOG_LEVEL: 'error' })).toMatchObject({ 'log-level': 'error', 'log-messages': false });
  });

  it('refuses a bad value, naming the option, its variable and what it accepts', () => {
    const refused = (argv: string[], env: Record<string, string> = {}) => {
      try {
        loadConfig(argv, env);
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigError);
        return (error as Error).message;
      }
      throw new Error(`accepted ${JSON.stringify({ argv, env })}`);
    };
    expect(refused(['--port', '70000'])).toBe('--port (CHAT_PORT): "70000" must be 0..65535');
    expect(refused(['--heartbeat', '500'])).toBe('--heartbeat (CHAT_HEARTBEAT_MS): "500" must be from 1000 to 3600000 ms: a stream\'s Worker keeps no shorter beat');
    expect(refused([], { CHAT_HISTORY: 'lots' })).toBe('--history (CHAT_HISTORY): "lots" is not a whole number');
    expect(refused([], { CHAT_LOG_LEVEL: 'loud' })).toBe('--log-level (CHAT_LOG_LEVEL): "loud" must be debug, info, warn or error');
    expect(refused([], { CHAT_FAULTS: 'maybe' })).toBe('--faults (CHAT_FAULTS): "maybe" must be true or false (or 1/0, yes/no, on/off)');
    expect(refused([], { CHAT_LOG_MESSAGES: 'toString' })).toContain('must be true or false');
    expect(refused([], { CHAT_STORE: 'postgres://x' })).toContain('must be sqlite, memory or a redis:// URL');
    expect(refused(['--trust-proxy', '127.0.0.1,proxy.local'])).toBe('--trust-proxy (CHAT_TRUST_PROXY): "proxy.local" is not an IPv4 or IPv6 address or CIDR range (in "127.0.0.1,proxy.local")');
    expect(refused([], { CHAT_TRUST_PROXY: '10.0.0.0/33' })).toBe('--trust-proxy (CHAT_TRUST_PROXY): "10.0.0.0/33": the prefix length must be 0..32 (in "10.0.0.0/33")');
    expect(refused(['--trust-proxy', '::1/129'])).toContain('"::1/129": the prefix length must be 0..128');
    expect(refused(['--trust-proxy', '127.0.0.1,,::1'])).toContain('an empty entry');
    expect(refused(['--trust-proxy', '1.2.3.4.5'])).toContain('"1.2.3.4.5" is not an IPv4 or IPv6 address');
  });
});

describe('--token-file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'threadchat-token-'));
  const file = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };

  it('reads the token from the file, without its trailing newline, by flag or variable', () => {
    expect(loadConfig(['--token-file', file('a', 's3cret token, long\n')], {}).token).toBe('s3cret token, long');
    expect(loadConfig([], { CHAT_TOKEN_FILE: file('b', 'a token with crlf\r\n') }).token).toBe('a token with crlf');
    expect(loadConfig([], { CHAT_TOKEN_FILE: file('c', 'a token, no newline') }).token).toBe('a token, no newline');
  });

  it('refuses an unreadable or empty file, or --token as well, naming the file and what to do', () => {
    const missing = join(dir, 'missing');
    expect(() => loadConfig(['--token-file', missing], {})).toThrow(`--token-file (CHAT_TOKEN_FILE) "${missing}": cannot read it (ENOENT)`);
    const empty = file('empty', '\n');
    expect(() => loadConfig(['--token-file', empty], {})).toThrow(`--token-file (CHAT_TOKEN_FILE) "${empty}": the file is empty; write the token in it`);
    const both = file('both', 'x');
    expect(() => loadConfig(['--token-file', both, '--token', 'y'], {})).toThrow('--token (CHAT_TOKEN) is set too; give the token one way only');
    expect(() => loadConfig([], { CHAT_TOKEN_FILE: both, CHAT_TOKEN: 'y' })).toThrow(ConfigError);
  });

  it('stops the server at start with exit 2 and the message', async () => {
    const missing = join(dir, 'nope');
    const { code, stdout, stderr } = await run(['--port', '0', '--token-file', missing]);
    expect(code).toBe(2);
    expect(stderr).toContain(`threadchat: --token-file (CHAT_TOKEN_FILE) "${missing}": cannot read it`);
    expect(stdout).not.toContain('listening');
    const both = await run(['--port', '0', '--token-file', file('d', 'x\n'), '--token', 'y']);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('give the token one way only');
  });
});

describe('--auth', () => {
  it('is open by default, token with a token, and refuses a short token, a token outside token mode, or token mode without one', () => {
    expect(loadConfig([], {}).auth).toBe('open');
    expect(loadConfig(['--token', 'sixteen chars ok'], {}).auth).toBe('token');
    expect(loadConfig(['--auth', 'accounts'], {}).auth).toBe('accounts');
    expect(() => loadConfig(['--token', 'a'], {})).toThrow('--token must be at least 16 characters');
    expect(() => loadConfig(['--token', 'fifteen chars!!'], {})).toThrow('--token must be at least 16 characters');
    expect(() => loadConfig(['--auth', 'token'], {})).toThrow('--auth token needs the token');
    expect(() => loadConfig(['--auth', 'accounts', '--token', 'sixteen chars ok'], {})).toThrow('--token (or --token-file) is for --auth token');
    expect(() => loadConfig(['--auth', 'magic'], {})).toThrow('must be open, token, accounts or jwt');
    expect(() => loadConfig(['--session-idle', 'forever'], {})).toThrow('must be a duration');
  });

  it('stops the server with exit 2 on a token shorter than 16 characters', async () => {
    const { code, stdout, stderr } = await run(['--port', '0', '--store', 'memory', '--token', 'a']);
    expect(code).toBe(2);
    expect(stderr).toContain('--token must be at least 16 characters');
    expect(stdout).not.toContain('listening');
  });
});

describe('--jwt-key, --jwt-alg, --jwt-audience, --jwt-issuer', () => {
  const dir = mkdtempSync(join(tmpdir(), 'threadchat-jwt-key-'));
  const file = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };
  const pem = { publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } } as const;
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048, ...pem });
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256', ...pem });

  it('reads them, none set by default; --jwt-alg takes RS256, ES256, EdDSA or HS256 only', () => {
    expect(loadConfig([], {})).toMatchObject({ 'jwt-key': '', 'jwt-alg': '', 'jwt-audience': '', 'jwt-issuer': '' });
    const argv = ['--auth', 'jwt', '--jwt-alg', 'EdDSA', '--jwt-key', 'issuer.pem', '--jwt-audience', 'chat', '--jwt-issuer', 'https://id.example'];
    expect(loadConfig(argv, {})).toMatchObject({ auth: 'jwt', 'jwt-key': 'issuer.pem', 'jwt-alg': 'EdDSA', 'jwt-audience': 'chat', 'jwt-issuer': 'https://id.example' });
    for (const alg of ['none', 'rs256', 'HS512', 'RS256,HS256']) {
      expect(() => loadConfig(['--jwt-alg', alg], {})).toThrow(`--jwt-alg (CHAT_JWT_ALG): "${alg}" must be RS256, ES256, EdDSA or HS256`);
    }
  });

  // Each bad key file stops the real server at start, exit 2, with a message naming the file (lib/jwt-key.ts).
  it('stops the server with exit 2 on a bad key file, naming it', async () => {
    const cases: [alg: string, path: string, says: string][] = [
      ['ES256', join(dir, 'missing.pem'), 'cannot read it (ENOENT)'],
      ['ES256', file('rsa.pem', rsa.publicKey), 'is an RSA (2048-bit) key, but --jwt-alg ES256 needs an EC public key on the P-256 curve'],
      ['RS256', file('private.pem', rsa.privateKey), 'holds a private key; give the public key only'],
      ['HS256', file('confused.pem', rsa.publicKey), 'holds a PEM PUBLIC KEY, but --jwt-alg HS256 takes a shared secret'],
      ['HS256', file('short', 'only-twenty-bytes-xx\n'), 'the secret is 20 bytes; HS256 needs at least 32'],
    ];
    for (const [alg, path, says] of cases) {
      const { code, stdout, stderr } = await run(['--port', '0', '--store', 'memory', '--auth', 'jwt', '--jwt-alg', alg, '--jwt-key', path]);
      expect({ code, stderr }).toMatchObject({ code: 2, stderr: expect.stringContaining(`threadchat: --jwt-key (CHAT_JWT_KEY) "${path}": ${says}`) });
      expect(stdout).not.toContain('listening');
    }
    const noAlg = await run(['--port', '0', '--store', 'memory', '--auth', 'jwt', '--jwt-key', file('ec.pem', ec.publicKey)]);
    expect(noAlg.code).toBe(2);
    expect(noAlg.stderr).toContain('--auth jwt needs --jwt-alg (CHAT_JWT_ALG)');
    const notJwt = await run(['--port', '0', '--store', 'memory', '--jwt-alg', 'RS256']);
    expect(notJwt.code).toBe(2);
    expect(notJwt.stderr).toContain('--jwt-alg is for --auth jwt, not --auth open');
    rmSync(dir, { recursive: true, force: true });
  });
});

describe('--help and .env.example', () => {
  it('lists every option with its variable and default', () => {
    const help = helpText();
    for (const [name, spec] of Object.entries(OPTIONS)) {
      expect(help).toContain(`--${name}`);
      expect(help).toContain(`env ${spec.env}, default ${shown(spec.default)}`);
    }
  });

  it('has every variable in .env.example with its default', () => {
    const example = readFileSync(join(ROOT, '.env.example'), 'utf8');
    for (const spec of Object.values(OPTIONS)) {
      expect(example).toContain(`\n# ${spec.env}=${String(spec.default)}\n`);
    }
    // And nothing else: each variable named there is an option's.
    const named = [...example.matchAll(/^# (CHAT_[A-Z_]+)=/gm)].map((m) => m[1]);
    expect(named.sort()).toEqual(Object.values(OPTIONS).map((o) => o.env).sort());
  });
});

describe('the server command', () => {
  it('prints every option with its variable and default on --help and exits 0', async () => {
    const { code, stdout } = await run(['--help']);
    expect(code).toBe(0);
    expect(stdout).toStartWith(`Usage: ${SERVER_COMMAND[0]!.endsWith('node') ? 'node dist/server.js' : 'bun server.ts'} [options]`);
    for (const [name, spec] of Object.entries(OPTIONS)) {
      expect(stdout).toContain(`--${name}`);
      expect(stdout).toContain(`env ${spec.env}, default ${shown(spec.default)}`);
    }
  });

  it('refuses bad values at start with a clear message and exit code 2', async () => {
    for (const [args, env, message] of [
      [['--port', 'eighty'], {}, '--port (CHAT_PORT): "eighty" is not a whole number'],
      [[], { CHAT_LOG_LEVEL: 'loud' }, '--log-level (CHAT_LOG_LEVEL): "loud" must be debug, info, warn or error'],
      [[], { CHAT_FAULTS: 'maybe' }, '--faults (CHAT_FAULTS): "maybe" must be true or false'],
      [['--trust-proxy', '127.0.0.1,10.0.0.300'], {}, '--trust-proxy (CHAT_TRUST_PROXY): "10.0.0.300" is not an IPv4 or IPv6 address or CIDR range'],
      [['--no-such-option'], {}, "Unknown option '--no-such-option'"],
    ] as [string[], Record<string, string>, string][]) {
      const { code, stdout, stderr } = await run(args, env);
      expect(code).toBe(2);
      expect(stderr).toContain(`threadchat: ${message}`);
      expect(stderr).toContain('Run with --help');
      expect(stdout).not.toContain('listening');
    }
  });
});

describe('the store and .env at start, as the README says', () => {
  /** Starts the server with `env` (from `cwd`), returns what /healthz says, and stops it. */
  async function healthWith(env: Record<string, string | undefined>, cwd = ROOT) {
    const { REDIS_URL: _r, CHAT_STORE: _s, ...base } = process.env;
    const proc = Bun.spawn([...SERVER_COMMAND, '--port', '0', '--log', 'silent'], { cwd, env: { ...base, ...env }, stdout: 'pipe', stderr: 'pipe' });
    let out = '';
    void (async () => {
      for await (const chunk of proc.stdout as ReadableStream<Uint8Array>) out += new TextDecoder().decode(chunk);
    })();
    try {
      const url = await waitFor(() => {
        if (proc.exitCode !== null) throw new Error(`server exited with ${proc.exitCode}`);
        return out.match(/listening on (http:\/\/[^\s]+?:\d+)\//)?.[1];
      }, 'the server to listen', 15_000);
      return (await (await fetch(`${url}/healthz`)).json()) as { store: string; streams: number };
    } finally {
      proc.kill();
      await proc.exited;
    }
  }

  it('takes REDIS_URL as the store, and CHAT_STORE over it when both are set', async () => {
    const redis = 'redis://127.0.0.1:6379/13?prefix=tc-test:config:';
    expect((await healthWith({ REDIS_URL: redis })).store).toBe('redis');
    expect((await healthWith({ REDIS_URL: redis, CHAT_STORE: 'memory' })).store).toBe('memory');
  });

  it('stops at start with a clear message when Redis cannot be reached', async () => {
    const { code, stderr, stdout } = await run(['--port', '0', '--store', 'redis://127.0.0.1:1/0']);
    expect(code).not.toBe(0);
    expect(stderr.toLowerCase()).toContain('redis');
    expect(stderr).toContain('127.0.0.1:1');
    expect(stdout).not.toContain('listening');
  });

  it('reads .env from the directory it starts in', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'threadchat-env-'));
    try {
      writeFileSync(join(dir, '.env'), 'CHAT_STORE=memory\n');
      expect((await healthWith({}, dir)).store).toBe('memory');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
