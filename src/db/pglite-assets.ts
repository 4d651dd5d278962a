/**
 * PGlite's runtime files, imported as files so that `bun build --compile` embeds them and the
 * compiled binary can open a database without node_modules (its default lookup fails there).
 * Under `bun run` the same imports resolve to the files in node_modules.
 */

import initdbWasm from "../../node_modules/@electric-sql/pglite/dist/initdb.wasm" with { type: "file" };
import pgliteData from "../../node_modules/@electric-sql/pglite/dist/pglite.data" with { type: "file" };
import pgliteWasm from "../../node_modules/@electric-sql/pglite/dist/pglite.wasm" with { type: "file" };

let compiled: Promise<{ pgliteWasmModule: WebAssembly.Module; initdbWasmModule: WebAssembly.Module }> | undefined;

export async function pgliteAssets() {
  compiled ??= (async () => ({
    pgliteWasmModule: await WebAssembly.compile(await Bun.file(pgliteWasm).arrayBuffer()),
    initdbWasmModule: await WebAssembly.compile(await Bun.file(initdbWasm).arrayBuffer()),
  }))();
  const modules = await compiled;
  return { ...modules, fsBundle: Bun.file(pgliteData) };
}
