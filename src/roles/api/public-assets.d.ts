// Files of public/ imported `with { type: "file" }` resolve to a path (on disk under `bun run`,
// inside the binary when compiled). TypeScript needs to be told so for these extensions.
declare module "*.css" {
  const path: string;
  export default path;
}
declare module "*.svg" {
  const path: string;
  export default path;
}
declare module "*/public/dashboard.js" {
  const path: string;
  export default path;
}
declare module "*/public/docs.js" {
  const path: string;
  export default path;
}
