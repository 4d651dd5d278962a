// Files of public/ (and the vendored libraries of node_modules/) imported `with { type: "file" }`
// resolve to a path (on disk under `bun run`, inside the binary when compiled). TypeScript needs
// to be told so for these extensions.
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
declare module "*/public/ui.js" {
  const path: string;
  export default path;
}
declare module "*/public/fleet.js" {
  const path: string;
  export default path;
}
declare module "*/public/charger.js" {
  const path: string;
  export default path;
}
declare module "*/public/history.js" {
  const path: string;
  export default path;
}
declare module "*/public/map.js" {
  const path: string;
  export default path;
}
declare module "*/leaflet/dist/leaflet.js" {
  const path: string;
  export default path;
}
declare module "*/topojson-client/dist/topojson-client.min.js" {
  const path: string;
  export default path;
}
declare module "*/uplot/dist/uPlot.iife.min.js" {
  const path: string;
  export default path;
}
