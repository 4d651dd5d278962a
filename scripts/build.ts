/**
 * `npm run build`: compiles src/main.ts into one self-contained executable, `dist/evnet`, that
 * runs on a machine with no Bun, Node or node_modules. What it carries besides the code:
 * - the migrations (src/db/migrations.generated.ts imports them as text),
 * - PGlite's wasm and data files (src/db/pglite-assets.ts imports them `with { type: "file" }`),
 * - the dashboard's files (src/roles/api/public-files.ts imports public/ the same way),
 * - @platformatic/wasm-utils' native.wasm, through the plugin below: that package reads the file
 *   from disk next to itself, which does not exist inside the executable,
 * - the code of Central's opening thread (src/crypto/opening-worker.ts): a thread's code is an
 *   entry point of its own.
 * Then it runs `dist/evnet --version` to prove the result starts.
 *
 * Usage: bun scripts/build.ts [--outfile path] [--no-smoke]
 */

import { mkdirSync, statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import type { BunPlugin } from "bun";

const WASM_READ = "readFileSync(new URL('../dist/native.wasm', import.meta.url))";

/** Makes @platformatic/wasm-utils read native.wasm from a file embedded in the executable. */
export const embedKafkaWasm: BunPlugin = {
  name: "embed-platformatic-wasm-utils",
  setup(build) {
    build.onLoad({ filter: /@platformatic[\\/]wasm-utils[\\/]dist[\\/]index\.js$/ }, async (args) => {
      const source = await Bun.file(args.path).text();
      if (!source.includes(WASM_READ)) throw new Error(`${args.path} no longer reads native.wasm the way scripts/build.ts expects; update the plugin`);
      const contents = `import evnetNativeWasm from "./native.wasm" with { type: "file" };\n${source.replace(WASM_READ, "readFileSync(evnetNativeWasm)")}`;
      return { contents, loader: "js" };
    });
  },
};

export async function build(outfile: string): Promise<void> {
  mkdirSync(dirname(outfile), { recursive: true });
  const result = await Bun.build({
    entrypoints: ["src/main.ts", "src/crypto/opening-worker.ts"],
    compile: {
      outfile,
      // evnet reads .env itself (src/config/env.ts, with its own precedence rules), and a
      // bunfig.toml in the operator's working directory must not change how the binary runs.
      autoloadDotenv: false,
      autoloadBunfig: false,
    },
    minify: true,
    sourcemap: "linked",
    plugins: [embedKafkaWasm],
  });
  if (!result.success) {
    for (const log of result.logs) console.error(log);
    throw new Error("bun build failed");
  }
}

/** Runs the new executable once: a binary that cannot even print its version is not shipped. */
export function smokeRun(outfile: string): string {
  const run = Bun.spawnSync([outfile, "--version"], { stdout: "pipe", stderr: "pipe" });
  const output = run.stdout.toString().trim();
  if (run.exitCode !== 0) throw new Error(`${outfile} --version failed (exit ${run.exitCode}): ${run.stderr.toString()}`);
  return output;
}

if (import.meta.main) {
  const args = process.argv.slice(2);
  const at = args.indexOf("--outfile");
  const outfile = resolve(at >= 0 && args[at + 1] ? args[at + 1]! : "dist/evnet");
  const started = Date.now();
  await build(outfile);
  const size = (statSync(outfile).size / 1024 / 1024).toFixed(0);
  console.log(`built ${outfile} (${size} MB) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  if (!args.includes("--no-smoke")) console.log(`smoke run: ${outfile} --version -> ${smokeRun(outfile)}`);
}
