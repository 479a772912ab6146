// Native artifacts imported as embedded files (bun build --compile).
declare module "*.so" {
  const path: string;
  export default path;
}
declare module "*/tsd-monitor" {
  const path: string;
  export default path;
}
declare module "*/tsd-init" {
  const path: string;
  export default path;
}
declare module "*/tsd-runc" {
  const path: string;
  export default path;
}
