import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { ManagedProcess, waitUntilReady, type ServiceOptions } from './process.js';
import { isPortOpen } from './ports.js';

export interface MaildevOptions {
  smtpPort: number;
  webPort: number;
  /** Keep received mail on disk across restarts; omitted → in memory. */
  mailDir?: string;
  process?: Pick<ServiceOptions, 'logFile' | 'pidFile'>;
}

export interface RunningMaildev {
  smtpUrl: string;
  /** The web view for people. */
  webUrl: string;
  /** The REST API base (GET /email, DELETE /email/all). */
  apiUrl: string;
  stop(): Promise<void>;
}

function maildevBin(): string {
  // maildev exports only its library entry (dist/index.js); its CLI sits beside it.
  const entry = fileURLToPath(import.meta.resolve('maildev'));
  return path.join(path.dirname(entry), 'bin', 'maildev.js');
}

/** Starts the maildev SMTP sink with its web view, both on loopback. */
export async function startMaildev(options: MaildevOptions): Promise<RunningMaildev> {
  const args = [
    maildevBin(),
    '--smtp',
    String(options.smtpPort),
    '--web',
    String(options.webPort),
    '--ip',
    '127.0.0.1',
    '--web-ip',
    '127.0.0.1',
    ...(options.mailDir ? ['--mail-directory', options.mailDir] : []),
  ];
  const proc = ManagedProcess.start('maildev', process.execPath, args, {
    ...options.process,
    env: { ...process.env, NODE_NO_WARNINGS: '1' },
  });
  const webBase = `http://127.0.0.1:${options.webPort}`;
  await waitUntilReady(
    proc,
    async () => {
      const res = await fetch(`${webBase}/api/email`);
      return res.ok && (await isPortOpen(options.smtpPort)) ? true : undefined;
    },
    30_000,
  );
  return {
    smtpUrl: `smtp://127.0.0.1:${options.smtpPort}`,
    webUrl: `${webBase}/`,
    apiUrl: `${webBase}/api`,
    stop: () => proc.stop(5_000),
  };
}
