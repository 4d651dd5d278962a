/**
 * Real headless Chromium (Debian's package) driven by playwright-core, with a fresh profile per
 * launch. Installs Chromium first when it is missing (scripts/ensure-chromium.sh).
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BrowserContext, chromium, type Page } from "playwright-core";

export const CHROMIUM = "/usr/bin/chromium";
export const SCREENSHOTS_DIR = "test-results";

export const LAPTOP = { width: 1366, height: 900 };
export const PHONE = { width: 390, height: 844 };

function ensureChromium(): void {
  if (existsSync(CHROMIUM)) return;
  const install = Bun.spawnSync(["bash", "scripts/ensure-chromium.sh"], { stdout: "inherit", stderr: "inherit" });
  if (install.exitCode !== 0 || !existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing and could not be installed: run 'apt-get install -y chromium'`);
}

export interface Browser {
  context: BrowserContext;
  /** The profile folder: it names this browser's processes (`--user-data-dir=`). */
  profile: string;
  newPage(viewport: { width: number; height: number }): Promise<Page>;
  close(): Promise<void>;
}

/** `trustTestCertificates`: accept the test CA's server certificates (a network started with TLS). */
export async function launchChromium(o: { trustTestCertificates?: boolean } = {}): Promise<Browser> {
  ensureChromium();
  const profile = mkdtempSync(join(tmpdir(), "evnet-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    ignoreHTTPSErrors: o.trustTestCertificates ?? false,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-quic",
      "--no-first-run",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  return {
    context,
    profile,
    async newPage(viewport) {
      const page = await context.newPage();
      await page.setViewportSize(viewport);
      return page;
    },
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Saves a full-page screenshot into test-results/ (git-ignored) and returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOTS_DIR, { recursive: true });
  const path = join(SCREENSHOTS_DIR, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}
