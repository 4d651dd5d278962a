import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { renderIndex } from "../../scripts/db-generate.ts";

test("src/db/migrations.generated.ts embeds exactly the migrations in migrations/ (run `npm run db:generate` if not)", () => {
  expect(readFileSync("src/db/migrations.generated.ts", "utf8")).toBe(renderIndex());
});
