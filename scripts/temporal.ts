/**
 * `npm run temporal -- <args>`: the Temporal CLI that `npm start` uses (resolved the same way: TEMPORAL_CLI_PATH,
 * else `temporal` on PATH, else the PyPI wheel in the cache folder), pointed at the local stack's server
 * (TEMPORAL_ADDRESS, else 127.0.0.1:TEMPORAL_PORT) and namespace. Example:
 * `npm run temporal -- workflow list --query "Programme='demo_college'"`. Exits with the CLI's exit code.
 */
import { spawn } from 'node:child_process';
import { resolveTemporalCli } from '../local-stack/temporal-cli.js';
import { loadConfig, loadDotEnv } from '../platform/config.js';

loadDotEnv();
const config = loadConfig();
const cli = await resolveTemporalCli({
  explicitPath: config.temporal.cliPath,
  cacheDir: config.cacheDir,
  onProgress: (message) => process.stderr.write(`${message}\n`),
});
const child = spawn(cli, process.argv.slice(2), {
  stdio: 'inherit',
  env: {
    ...process.env,
    TEMPORAL_ADDRESS: config.temporal.address ?? `127.0.0.1:${config.temporal.port}`,
    TEMPORAL_NAMESPACE: config.temporal.namespace,
  },
});
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
