/**
 * The password for `user add` and `user passwd`: from stdin with --password-stdin (one trailing newline dropped, so
 * `echo`, `printf` and a file all work), or asked twice on the terminal with echo off. Never from an argument: the
 * command line is visible to every local user (ps, /proc).
 */
import { spawnSync } from 'node:child_process';
import { createInterface } from 'node:readline';
import { UsageError } from './errors.ts';

async function readAll(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

/** Turns the terminal's echo off or back on (stty acts on the terminal it is given as stdin). */
const echo = (on: boolean) => spawnSync('stty', [on ? 'echo' : '-echo'], { stdio: ['inherit', 'ignore', 'ignore'] });

async function ask(prompt: string): Promise<string> {
  process.stderr.write(prompt);
  echo(false);
  const lines = createInterface({ input: process.stdin, terminal: false });
  try {
    for await (const line of lines) return line;
    return '';
  } finally {
    lines.close();
    echo(true);
    process.stderr.write('\n');
  }
}

export async function readPassword(name: string, fromStdin: boolean): Promise<string> {
  if (fromStdin) return readAll();
  if (!process.stdin.isTTY) throw new UsageError('no terminal to ask for the password on: pipe it in with --password-stdin');
  const first = await ask(`Password for ${name}: `);
  const again = await ask('The same again: ');
  if (first !== again) throw new UsageError('the two passwords differ: nothing was changed');
  return first;
}
