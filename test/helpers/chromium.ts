// Launches the system's headless Chromium (the Debian `chromium` package) through playwright-core.
// Never downloads a browser: without one on PATH the browser tests fail and say what to install.
import { accessSync, constants } from 'node:fs'
import { delimiter, join } from 'node:path'
import { type Browser, chromium } from 'playwright-core'

/** Flags for a quiet, sandbox-free headless run in CI containers: no GPU, QUIC, updates or sync. */
export const chromiumArgs = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]

/** The `chromium` executable on PATH, like `which chromium`; throws with install advice when there is none. */
export function findChromium(): string {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue
    const candidate = join(dir, 'chromium')
    try {
      accessSync(candidate, constants.X_OK)
      return candidate
    } catch {
      // Not in this directory; try the next one.
    }
  }
  throw new Error(
    'chromium is not on PATH: install the Debian package (apt-get install chromium). ' +
      'The browser tests need it and never download a browser.',
  )
}

/** Starts headless Chromium; the caller closes it. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: findChromium(), args: chromiumArgs, headless: true })
}
