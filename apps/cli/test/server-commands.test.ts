import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { BIN, CONFIG, runCli, tiny } from './helpers';

// `sparsevit serve`, `scan` and `worker` are @sparsevit/server's commands; here only that the
// CLI runs them as its own (help, usage errors, exit codes). The service itself is tested in
// apps/server.

describe('server commands', () => {
  it('are listed, and each prints its help', async () => {
    const help = await runCli(['--help']);
    expect(help.stdout).toMatch(/serve[\s\S]*scan[\s\S]*worker/);
    for (const command of ['serve', 'scan', 'worker']) {
      const r = await runCli([command, '--help']);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`Usage: sparsevit ${command}`);
      expect((await runCli(['help', command])).stdout).toBe(r.stdout);
    }
  });

  it.concurrent.each([
    ['serve with an unknown flag', ['serve', '--bogus'], /Unknown option '--bogus'/],
    ['serve with an unknown device', ['serve', '--device', 'tpu'], /--device must be one of cpu, cuda, webgpu/],
    ['serve with a port out of range', ['serve', '--weights', 'w', '--port', '70000'], /--port must be an integer in \[0, 65535\]/],
    ['scan without --redis', ['scan', 'photos/'], /--redis is required/],
    ['scan without --out', ['scan', 'photos/', '--redis', 'redis://127.0.0.1:1'], /--out is required/],
    ['scan --status with inputs', ['scan', '--status', 'photos/', '--redis', 'redis://127.0.0.1:1'], /--status takes no inputs/],
    ['worker with a Redis URL that is not one', ['worker', '--weights', 'w', '--redis', 'http://x'], /--redis must be a redis:\/\//],
  ])('exit 2 on %s', async (_name, args, message) => {
    const r = await runCli(args as string[]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toContain(`Usage: sparsevit ${(args as string[])[0]}`);
  });

  it('serves until SIGTERM, then exits 0', async () => {
    const child = spawn(process.execPath, [BIN, 'serve', '--weights', tiny('weights.safetensors'), '--config', CONFIG, '--port', '0', '--log-level', 'info'], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    const ready = new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        const url = /"url":"(http:[^"]+)"/.exec(out)?.[1];
        if (url && out.includes('"model ready"')) resolve(url);
      });
      child.once('exit', (code) => reject(new Error(`serve exited (${code}) early:\n${out}`)));
    });
    const url = await ready;
    expect((await (await fetch(`${url}/readyz`)).json()).status).toBe('ready');
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
