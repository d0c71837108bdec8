import fs from 'node:fs';

/** Chromium from Debian's package (`.ci/run` installs it); CHROMIUM_PATH overrides. */
export const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export const hasChromium = fs.existsSync(chromiumPath);

/** Under CI a missing browser is a failure, never a skip; elsewhere the test says why it is skipped. */
export const skipBrowserTests = !hasChromium && !process.env.CI;

export const chromiumArgs = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
